import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import type { Logger } from "../logger.ts";
import { clientOptionsFor } from "./client-options.ts";
import { connectMqtt } from "./connect.ts";
import type { MqttFrontendOptions } from "./options.ts";
import { skipPacketNumberCache } from "./packet-numbers.ts";
import { safeUrl } from "./redact.ts";

/** Socket and DNS errors that mean "the broker is not there (yet)": wait and try again. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
]);
/** CONNACK codes for "unsupported protocol version": 1 (MQTT 3.1.1), 132 (MQTT 5). */
const PROTOCOL_REFUSED = new Set([1, 132]);

/** How long `stop()` waits for the broker to take the last message. */
const STOP_WAIT_MS = 3_000;

/** The largest packet the bridge's own client accepts (MQTT 5 tells the broker; requests are far smaller). */
export const CLIENT_MAX_PACKET_BYTES = 1024 * 1024;

export interface ConnectionHandlers {
  /** After every (re)connect, before `start()` resolves for the first one. */
  connected(client: MqttClient, protocolVersion: 4 | 5, first: boolean): Promise<void>;
  message(topic: string, payload: Buffer, packet: IPublishPacket): void;
}

function errorCode(error: unknown): string | number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code: unknown = Reflect.get(error, "code");
  return typeof code === "string" || typeof code === "number" ? code : undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined || message.includes(String(code)) ? message : `${message} (${code})`;
}

/**
 * The front-end's connection to the broker: MQTT 5 (retain-as-published requests, a packet size
 * limit) with a fall-back to 3.1.1 for brokers that refuse it, reconnects with exponential back-off,
 * and one log line per outage instead of one per attempt. A broker that is not reachable yet (the
 * usual case while docker-compose or Home Assistant boot) is waited for; credentials or TLS refused
 * before the first connection are an error.
 */
export class BrokerConnection {
  readonly #o: MqttFrontendOptions;
  readonly #will: string;
  readonly #log: Logger;
  readonly #handlers: ConnectionHandlers;
  #client: MqttClient | undefined;
  #version: 4 | 5;
  #connections = 0;
  #stopping = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #delay: number;
  #attempts = 0;
  /** When the current outage began (first failed attempt), undefined while connected. */
  #outageSince: number | undefined;
  #refusedLogged = false;
  #settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(options: MqttFrontendOptions, willTopic: string, log: Logger, handlers: ConnectionHandlers) {
    this.#o = options;
    this.#will = willTopic;
    this.#log = log;
    this.#handlers = handlers;
    this.#version = options.protocolVersion;
    this.#delay = options.reconnectMinMs;
  }

  get client(): MqttClient | undefined {
    return this.#client;
  }

  /** The protocol the current client speaks (5, or 4 after a broker refused 5). */
  get protocolVersion(): 4 | 5 {
    return this.#version;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /**
   * Connects. Resolves once connected, or once the first attempt found no broker (then it keeps
   * trying in the background); rejects when the broker refused the connection for another reason
   * (credentials, authorisation, TLS) before the first success.
   */
  start(): Promise<void> {
    if (this.#client !== undefined) throw new Error("already started");
    this.#log.info("connecting to MQTT", {
      url: safeUrl(this.#o.url),
      clientId: this.#o.clientId,
      username: this.#o.username,
    });
    return new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#open();
    });
  }

  /** Stops reconnecting; publishes `last` (retained) first when connected, then disconnects. */
  async stop(last?: { topic: string; payload: string }): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#finish();
    if (client === undefined) return;
    if (client.connected) {
      if (last !== undefined) {
        const published = client
          .publishAsync(last.topic, last.payload, { qos: 1, retain: true })
          .catch((error: unknown) => this.#log.warn("publishing before disconnect failed", { error: describe(error) }));
        // A connection that dies right now never acknowledges: do not hang the shutdown on it.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([published, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
        clearTimeout(timer);
      }
      await client.endAsync(!client.connected);
    } else {
      await client.endAsync(true);
    }
  }

  #open(): void {
    const base = clientOptionsFor(this.#o, this.#will);
    const options: IClientOptions = {
      ...base,
      protocolVersion: this.#version,
      // Reconnects are ours (back-off, one log line per outage).
      reconnectPeriod: 0,
      ...(this.#version === 5 ? { properties: { maximumPacketSize: CLIENT_MAX_PACKET_BYTES } } : {}),
    };
    skipPacketNumberCache("mqtt");
    const client = connectMqtt(this.#o.url, options);
    this.#client = client;
    this.#attempts += 1;
    client.on("connect", () => void this.#onConnect(client));
    client.on("error", (error) => this.#onError(client, error));
    client.on("close", () => this.#onClose(client));
    client.on("message", (topic, payload, packet) => this.#handlers.message(topic, payload, packet));
  }

  async #onConnect(client: MqttClient): Promise<void> {
    if (client !== this.#client) return;
    // Publishes go out at once instead of waiting (Nagle's algorithm) for the broker to acknowledge
    // the previous segment, which a delayed ACK holds back up to 40 ms (bench/README.md, "findmy.ts").
    (client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined)?.setNoDelay?.(true);
    const first = this.#connections === 0;
    this.#connections += 1;
    if (this.#outageSince !== undefined) {
      const seconds = Math.round((Date.now() - this.#outageSince) / 1000);
      this.#log.info(`connected to MQTT after ${seconds} s without the broker`, { attempts: this.#attempts });
    } else {
      this.#log.info("connected to MQTT", { reconnect: !first, protocol: this.#version === 5 ? "5" : "3.1.1" });
    }
    this.#outageSince = undefined;
    this.#refusedLogged = false;
    this.#attempts = 0;
    this.#delay = this.#o.reconnectMinMs;
    try {
      await this.#handlers.connected(client, this.#version, first);
    } catch (error) {
      this.#log.warn("setting up after connect failed", { error: describe(error) });
    }
    this.#finish();
  }

  #onError(client: MqttClient, error: Error): void {
    if (client !== this.#client || this.#stopping) return;
    const code = errorCode(error);
    if (this.#version === 5 && typeof code === "number" && PROTOCOL_REFUSED.has(code)) {
      this.#log.info("the broker does not speak MQTT 5; using MQTT 3.1.1");
      this.#version = 4;
      this.#drop(client);
      this.#open();
      return;
    }
    const unreachable = typeof code === "string" && UNREACHABLE.has(code);
    if (!unreachable && this.#connections === 0 && this.#settle !== undefined) {
      // Credentials, authorisation, TLS at start: waiting does not help, and nothing has worked yet.
      this.#log.error("MQTT connection refused", { error: describe(error) });
      this.#stopping = true;
      client.end(true);
      this.#finish(error);
      return;
    }
    // Later (the program runs already): keep trying, and say once that the broker refuses us.
    this.#noteFailure(describe(error), !unreachable);
  }

  #onClose(client: MqttClient): void {
    if (client !== this.#client || this.#stopping) return;
    this.#noteFailure("connection closed");
    // The first attempt found no broker: let the program start; connecting goes on in the background.
    if (this.#connections === 0) this.#finish();
    const jitter = 1 + Math.random() * 0.2;
    const delay = Math.round(this.#delay * jitter);
    this.#delay = Math.min(this.#delay * 2, this.#o.reconnectMaxMs);
    this.#log.debug("reconnecting to MQTT", { in_ms: delay, attempt: this.#attempts + 1 });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#stopping || client !== this.#client) return;
      this.#attempts += 1;
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  /** Abandons a client (no more events from it). */
  #drop(client: MqttClient): void {
    client.removeAllListeners();
    client.on("error", () => undefined);
    client.end(true);
  }

  /** Logs the first failure of an outage as a warning, later ones at debug level; the first refusal as an error. */
  #noteFailure(reason: string, refused = false): void {
    if (refused && !this.#refusedLogged) {
      this.#refusedLogged = true;
      this.#log.error("the MQTT broker refuses the connection; retrying with back-off", { reason });
    }
    if (this.#outageSince === undefined) {
      this.#outageSince = Date.now();
      const what = this.#connections === 0 ? "MQTT broker not reachable yet" : "MQTT connection lost";
      this.#log.warn(`${what}; retrying with back-off (logged again once connected)`, {
        url: safeUrl(this.#o.url),
        reason,
      });
    } else {
      this.#log.debug("MQTT still unreachable", { reason });
    }
  }

  #finish(error?: unknown): void {
    const settle = this.#settle;
    this.#settle = undefined;
    if (settle === undefined) return;
    if (error === undefined) settle.resolve();
    else settle.reject(error);
  }
}
