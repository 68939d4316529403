import { randomBytes } from "node:crypto";
import type { IClientOptions, MqttClient } from "mqtt";
import type { z } from "zod";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../engine/api.ts";
import { COMMAND_SCHEMAS, type CommandInput, type CommandName, type CommandResult } from "../engine/commands.ts";
import { EventBus } from "../engine/event-bus.ts";
import type { EngineEvents, LogEntry } from "../engine/events.ts";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceKey } from "../engine/services/types.ts";
import { EngineError, ERROR_CODES, type ErrorCode } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { connectMqtt } from "../mqtt/connect.ts";
import { BridgeInfoSchema, BridgeStateSchema } from "../mqtt/messages.ts";
import { skipPacketNumberCache } from "../mqtt/packet-numbers.ts";
import { safeUrl } from "../mqtt/redact.ts";
import { describeIssues, parseJsonPayload, topicLevelAfter } from "../mqtt/remote-payload.ts";
import { ResponseSchema } from "../mqtt/requests.ts";
import type { MqttViewContext } from "../mqtt/service-view.ts";
import { type LoadedMqttView, loadMqttViews } from "../mqtt/service-views.ts";
import { Topics, topicKey } from "../mqtt/topics.ts";
import { AccountMirror } from "./account-mirror.ts";
import { type MqttConnection, mqttJsConnection } from "./connection.ts";
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_TIMEOUTS,
  type RemoteConnectOptions,
  type RemoteEngineOptions,
} from "./options.ts";
import { PendingRequests } from "./pending-requests.ts";
import { resultSchemas } from "./results.ts";

type Phase = "idle" | "starting" | "running" | "stopped";
type BridgeInfo = z.output<typeof BridgeInfoSchema>;

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/**
 * The engine's API (`EngineApi`) over MQTT, against an icloud2mqtt that already runs: accounts and
 * version from the retained `<base>/bridge/info`, snapshots and events rebuilt from the retained
 * account topics (each service's MQTT view says how), commands as zigbee2mqtt-style requests on
 * `<base>/bridge/request/<command>` with a `transaction`. See src/remote/README.md.
 */
export class RemoteEngine implements EngineApi {
  readonly bus: EventBus<EngineEvents>;
  readonly #connection: MqttConnection;
  readonly #topics: Topics;
  readonly #ctx: MqttViewContext;
  readonly #log: Logger;
  readonly #startTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #timeouts: Partial<Record<CommandName, number>>;
  readonly #settleMs: number;
  readonly #pending = new PendingRequests();
  readonly #transactionPrefix = `remote-${randomBytes(6).toString("hex")}`;
  readonly #waiters = new Set<() => void>();
  #transactions = 0;
  #ownedClient: MqttClient | undefined;
  #phase: Phase = "idle";
  #views: readonly LoadedMqttView[] = [];
  #results: ReadonlyMap<string, z.ZodType> = new Map();
  #info: BridgeInfo | null = null;
  #mirrors = new Map<string, AccountMirror>();
  #bySegment = new Map<string, AccountMirror>();
  /** What the bridge last said on `bridge/state`; null since a (re)connect until it says it again. */
  #bridgeOnline: boolean | null = null;
  #subscribed = new Set<string>();
  #unlisten: (() => void) | undefined;

  constructor(options: RemoteEngineOptions) {
    this.#connection = options.connection;
    this.#topics = new Topics(options.baseTopic ?? "icloud2mqtt", "homeassistant");
    const engine = this;
    this.#ctx = {
      topics: this.#topics,
      get version() {
        return engine.version;
      },
    };
    this.#log = (options.logger ?? silentLogger).child({ module: "remote" });
    this.bus = new EventBus<EngineEvents>(this.#log.child({ module: "bus" }));
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#settleMs = options.settleMs ?? 2_000;
  }

  /**
   * Connects to the broker with mqtt.js, then `start()`s. Rejects with `BRIDGE_OFFLINE` when the broker
   * refuses or cannot be reached, or no bridge answers (see `start`). `stop()` disconnects again.
   */
  static async connect(options: RemoteConnectOptions): Promise<RemoteEngine> {
    const { url, username, password, clientId, ca, cert, key, rejectUnauthorized, keepalive, reconnectPeriodMs } =
      options;
    const log = (options.logger ?? silentLogger).child({ module: "remote" });
    const clientOptions: IClientOptions = {
      clientId: clientId ?? `icloud2mqtt-remote-${randomBytes(4).toString("hex")}`,
      keepalive: keepalive ?? 60,
      reconnectPeriod: reconnectPeriodMs ?? 2_000,
      // The remote engine subscribes again itself on every connect.
      resubscribe: false,
      rejectUnauthorized: rejectUnauthorized ?? true,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    };
    log.info("connecting to MQTT", { url: safeUrl(url), clientId: clientOptions.clientId });
    skipPacketNumberCache("mqtt");
    const client = connectMqtt(url, clientOptions);
    client.on("error", (error) => log.warn("MQTT error", { error: error.message }));
    try {
      await firstConnection(client, url, options.startTimeoutMs ?? 10_000);
      const engine = new RemoteEngine({ ...options, connection: mqttJsConnection(client) });
      engine.#ownedClient = client;
      await engine.start();
      return engine;
    } catch (error) {
      await client.endAsync(true);
      throw error;
    }
  }

  /** The bridge's version (from `bridge/info`); empty before `start()`. */
  get version(): string {
    return this.#info?.version ?? "";
  }

  /** Connected to the broker and the bridge says it is online: commands are sent. */
  get online(): boolean {
    return this.#connection.connected && this.#bridgeOnline === true;
  }

  /**
   * Subscribes and waits (at most `startTimeoutMs`) for the broker, `bridge/info` and every listed
   * account's state. A bridge that is stopped still left them retained: start then succeeds with
   * `online` false, snapshots hold the last values and commands fail with `BRIDGE_OFFLINE` until it
   * is back. When nothing arrives (no bridge ever ran on this base topic, no broker), rejects with
   * `BRIDGE_OFFLINE` and leaves nothing subscribed; `start()` may be called again.
   */
  async start(): Promise<void> {
    if (this.#phase !== "idle") throw new Error(`RemoteEngine cannot start: it is ${this.#phase}`);
    this.#phase = "starting";
    this.#views = await loadMqttViews();
    this.#results = resultSchemas(this.#views);
    this.#unlisten = this.#connection.listen({
      message: (topic, payload, retained) => this.#onMessage(topic, payload, retained),
      connect: () => this.#onConnect(),
      disconnect: () => this.#onDisconnect(),
    });
    if (this.#connection.connected) this.#onConnect();
    const primed = await this.#waitFor(
      () => this.#primed() || (this.#phase as Phase) === "stopped",
      this.#startTimeoutMs,
    );
    // `stop()` while starting: it tore everything down already.
    if ((this.#phase as Phase) === "stopped") throw new EngineError("BRIDGE_OFFLINE", "stopped while starting");
    if (!primed) {
      const problem = this.#startProblem();
      await this.#teardown();
      this.#phase = "idle";
      this.#info = null;
      this.#mirrors = new Map();
      this.#bySegment = new Map();
      throw new EngineError("BRIDGE_OFFLINE", problem);
    }
    this.#phase = "running";
    this.#log.info("connected to icloud2mqtt", {
      version: this.version,
      accounts: [...this.#mirrors.keys()],
      online: this.online,
    });
  }

  /** Rejects waiting commands, unsubscribes, and disconnects when `connect()` made the connection. */
  async stop(): Promise<void> {
    if (this.#phase === "stopped") return;
    this.#phase = "stopped";
    await this.#teardown();
    this.#notify();
  }

  accounts(): AccountSummary[] {
    return [...this.#mirrors.values()]
      .filter((mirror) => mirror.state !== null)
      .map(({ summary }) => ({ ...summary, services: { ...summary.services } }));
  }

  snapshot(account?: string): AccountSnapshot {
    const id = account ?? this.accounts()[0]?.id;
    const snapshot = id === undefined ? null : (this.#mirrors.get(id)?.snapshot() ?? null);
    if (snapshot === null) {
      const known = this.accounts().map((a) => a.id);
      throw new EngineError("NOT_FOUND", `unknown account ${JSON.stringify(account)}; known: ${known.join(", ")}`);
    }
    return snapshot;
  }

  /** The bridge publishes no log lines on MQTT: always empty (read the bridge's own log or its HTTP API). */
  logs(_account: string | undefined, _minLevel: LogEntry["level"]): LogEntry[] {
    return [];
  }

  /**
   * Validates `input` here (an invalid one never leaves the process), sends the request and resolves
   * with the bridge's parsed answer. Rejects with the bridge's `EngineError` (code, message, info,
   * retryable as it sent them), `BRIDGE_OFFLINE` (not sent, or lost with the connection), or
   * `BRIDGE_TIMEOUT`.
   */
  async execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandResult<C>> {
    const schema = (COMMAND_SCHEMAS as Record<string, z.ZodType>)[command];
    if (schema === undefined) throw new EngineError("INVALID_INPUT", `unknown command ${JSON.stringify(command)}`);
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new EngineError("INVALID_INPUT", describeIssues(parsed.error));
    if (this.#phase !== "running") {
      throw new EngineError("BRIDGE_OFFLINE", `cannot run '${command}': the remote engine is ${this.#phase}`);
    }
    await this.#ensureOnline(command);
    const transaction = `${this.#transactionPrefix}-${++this.#transactions}`;
    const timeoutMs = this.#timeouts[command] ?? this.#commandTimeoutMs;
    const answer = this.#pending.wait(
      transaction,
      command,
      timeoutMs,
      () =>
        new EngineError(
          "BRIDGE_TIMEOUT",
          `icloud2mqtt did not answer '${command}' within ${timeoutMs / 1000} s; it may still run`,
          { info: { timeout_ms: timeoutMs } },
        ),
    );
    const body = JSON.stringify({ ...(parsed.data as object), transaction });
    this.#connection.publish(this.#topics.request(command), body, { retain: false }).catch((error: unknown) => {
      this.#pending.settle(transaction, command, {
        ok: false,
        error: new EngineError("BRIDGE_OFFLINE", `cannot send '${command}': the request was not published`, {
          cause: error,
        }),
      });
    });
    const data = await answer;
    const resultSchema = this.#results.get(command);
    const result = resultSchema?.safeParse(data);
    if (result === undefined || !result.success) {
      const why = result === undefined ? "no result schema" : describeIssues(result.error);
      throw new EngineError("UNEXPECTED_RESPONSE", `icloud2mqtt's answer to '${command}' does not parse: ${why}`);
    }
    return result.data as CommandResult<C>;
  }

  // ---------- connection ----------

  #onConnect(): void {
    if (this.#phase === "stopped") return;
    this.#bridgeOnline = null;
    // A clean session (or a broker restart) forgot the subscriptions: make them all again.
    const filters = this.#desiredFilters();
    this.#subscribed = new Set(filters);
    this.#connection.subscribe(filters).catch((error: unknown) => this.#debug("subscribe failed", error));
    this.#log.debug("connected to the broker", { filters: filters.length });
    this.#notify();
  }

  #onDisconnect(): void {
    if (this.#bridgeOnline !== null || this.#pending.size > 0) this.#log.info("connection to the broker lost");
    this.#bridgeOnline = null;
    this.#rejectInFlight("the connection to the broker was lost");
    this.#notify();
  }

  async #ensureOnline(command: string): Promise<void> {
    if (this.#connection.connected && this.#bridgeOnline === null) {
      await this.#waitFor(() => this.#bridgeOnline !== null || !this.#connection.connected, this.#settleMs);
    }
    const cannot = `cannot run '${command}'`;
    if (!this.#connection.connected) {
      throw new EngineError("BRIDGE_OFFLINE", `${cannot}: no connection to the MQTT broker`);
    }
    if (this.#bridgeOnline === false) {
      throw new EngineError("BRIDGE_OFFLINE", `${cannot}: icloud2mqtt is offline (${this.#topics.bridgeState})`);
    }
    if (this.#bridgeOnline === null) {
      throw new EngineError("BRIDGE_OFFLINE", `${cannot}: icloud2mqtt has not said it is online since the reconnect`);
    }
  }

  #rejectInFlight(why: string): void {
    this.#pending.rejectAll(
      (command) =>
        new EngineError("BRIDGE_OFFLINE", `${why} while '${command}' was running; it may or may not have run`, {
          retryable: false,
          info: { in_flight: true },
        }),
    );
  }

  #desiredFilters(): string[] {
    const bridge = [this.#topics.bridgeState, this.#topics.bridgeInfo, `${this.#topics.base}/bridge/response/+`];
    return [...bridge, ...[...this.#mirrors.values()].flatMap((mirror) => mirror.filters(this.#ctx))];
  }

  /** Subscribes what the accounts now need and unsubscribes what they no longer do. */
  #syncSubscriptions(): void {
    if (!this.#connection.connected) return;
    const desired = new Set(this.#desiredFilters());
    const add = [...desired].filter((f) => !this.#subscribed.has(f));
    const remove = [...this.#subscribed].filter((f) => !desired.has(f));
    this.#subscribed = desired;
    this.#connection.subscribe(add).catch((error: unknown) => this.#debug("subscribe failed", error));
    this.#connection.unsubscribe(remove).catch((error: unknown) => this.#debug("unsubscribe failed", error));
  }

  async #teardown(): Promise<void> {
    this.#unlisten?.();
    this.#unlisten = undefined;
    this.#pending.rejectAll(
      (command) => new EngineError("BRIDGE_OFFLINE", `the remote engine stopped while '${command}' was running`),
    );
    const filters = [...this.#subscribed];
    this.#subscribed = new Set();
    if (this.#connection.connected && filters.length > 0) {
      await this.#connection.unsubscribe(filters).catch((error: unknown) => this.#debug("unsubscribe failed", error));
    }
    const client = this.#ownedClient;
    this.#ownedClient = undefined;
    if (client !== undefined) await client.endAsync(!client.connected);
  }

  // ---------- messages ----------

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (this.#phase !== "starting" && this.#phase !== "running") return;
    try {
      this.#route(topic, payload, retained);
    } catch (error) {
      this.#log.warn("handling an MQTT message failed", {
        topic,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#notify();
  }

  #route(topic: string, payload: Buffer, retained: boolean): void {
    const topics = this.#topics;
    const command = topicLevelAfter(topic, `${topics.base}/bridge/response`);
    if (topic === topics.bridgeState) this.#onBridgeState(payload);
    else if (topic === topics.bridgeInfo) this.#onBridgeInfo(payload);
    else if (command !== undefined) this.#onResponse(command, payload);
    else this.#onAccountMessage(topic, payload, retained);
  }

  #onAccountMessage(topic: string, payload: Buffer, retained: boolean): void {
    const topics = this.#topics;
    if (!topic.startsWith(`${topics.base}/`)) return;
    const segment = topic.slice(topics.base.length + 1).split("/", 1)[0] ?? "";
    const mirror = this.#bySegment.get(segment);
    if (mirror === undefined) return;
    const receipt = mirror.receive(this.#ctx, { topic, payload, retained });
    if (receipt.kind === "invalid") {
      this.#log.debug("ignoring an invalid payload", { topic, reason: receipt.reason });
      return;
    }
    if (receipt.kind === "ignored" || this.#phase !== "running") return;
    const emit = this.bus.emit.bind(this.bus) as (event: string, payload: unknown) => void;
    for (const { event, payload: eventPayload } of receipt.events) emit(event, eventPayload);
  }

  #onBridgeState(payload: Buffer): void {
    if (payload.length === 0) {
      this.#bridgeOnline = null;
      return;
    }
    const parsed = parseJsonPayload(payload, BridgeStateSchema);
    if (!parsed.ok) {
      this.#log.debug("ignoring an invalid payload", { topic: this.#topics.bridgeState, reason: parsed.reason });
      return;
    }
    const online = parsed.data.state === "online";
    if (online !== this.#bridgeOnline && this.#phase === "running") {
      this.#log.info(online ? "icloud2mqtt is online" : "icloud2mqtt is offline");
    }
    this.#bridgeOnline = online;
    if (!online) this.#rejectInFlight("icloud2mqtt went offline");
  }

  #onBridgeInfo(payload: Buffer): void {
    if (payload.length === 0) return;
    const parsed = parseJsonPayload(payload, BridgeInfoSchema);
    if (!parsed.ok) {
      this.#log.debug("ignoring an invalid payload", { topic: this.#topics.bridgeInfo, reason: parsed.reason });
      return;
    }
    const info = parsed.data;
    this.#info = info;
    const mirrors = new Map<string, AccountMirror>();
    for (const account of info.accounts) {
      if (account.id === "bridge" || mirrors.has(account.id)) continue;
      const services = Object.fromEntries(
        GENERIC_SERVICES.map((s) => [s.key, account.services[s.key] === true]),
      ) as Record<ServiceKey, boolean>;
      const summary: AccountSummary = { id: account.id, username: account.username, services };
      const mirror = this.#mirrors.get(account.id);
      if (mirror === undefined) mirrors.set(account.id, new AccountMirror(summary, this.#views));
      else {
        mirror.update(summary);
        mirrors.set(account.id, mirror);
      }
    }
    this.#mirrors = mirrors;
    this.#bySegment = new Map([...mirrors.values()].map((m) => [topicKey(m.summary.id), m]));
    this.#syncSubscriptions();
  }

  #onResponse(command: string, payload: Buffer): void {
    const parsed = parseJsonPayload(payload, ResponseSchema);
    if (!parsed.ok) {
      this.#log.debug("ignoring an invalid response", { command, reason: parsed.reason });
      return;
    }
    const response = parsed.data;
    const transaction = response.transaction;
    // Responses to other clients' requests come here too.
    if (typeof transaction !== "string" || !transaction.startsWith(`${this.#transactionPrefix}-`)) return;
    if (response.status === "ok") {
      this.#pending.settle(transaction, command, { ok: true, data: response.data });
      return;
    }
    const { code, retryable, info } = response.data;
    const error = isErrorCode(code)
      ? new EngineError(code, response.error, { info, retryable })
      : new EngineError("UNEXPECTED_RESPONSE", `${response.error} (error code ${code} is unknown to this version)`, {
          info: { ...info, code },
          retryable,
        });
    this.#pending.settle(transaction, command, { ok: false, error });
  }

  // ---------- waiting ----------

  #primed(): boolean {
    return this.#info !== null && [...this.#mirrors.values()].every((m) => m.state !== null);
  }

  #startProblem(): string {
    const seconds = this.#startTimeoutMs / 1000;
    if (!this.#connection.connected) return `no connection to the MQTT broker within ${seconds} s`;
    if (this.#info === null) {
      return `no icloud2mqtt found: nothing on ${this.#topics.bridgeInfo} within ${seconds} s (is the bridge running with this base topic?)`;
    }
    const missing = [...this.#mirrors.values()].filter((m) => m.state === null).map((m) => m.summary.id);
    return `icloud2mqtt sent no state for account(s) ${missing.join(", ")} within ${seconds} s`;
  }

  /** Resolves true once `condition` holds (checked after every message and connection change), false after `ms`. */
  #waitFor(condition: () => boolean, ms: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (condition()) done(true);
      };
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(check);
    });
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }

  #debug(message: string, error: unknown): void {
    this.#log.debug(message, { error: error instanceof Error ? error.message : String(error) });
  }
}

/** Resolves on the client's first connection; rejects on an error before it (refused, unreachable) or after `ms`. */
function firstConnection(client: MqttClient, url: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: EngineError) => {
      cleanup();
      reject(error);
    };
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) =>
      fail(
        new EngineError("BRIDGE_OFFLINE", `cannot connect to the MQTT broker at ${safeUrl(url)}: ${error.message}`, {
          cause: error,
        }),
      );
    const timer = setTimeout(
      () =>
        fail(
          new EngineError(
            "BRIDGE_OFFLINE",
            `no connection to the MQTT broker at ${safeUrl(url)} within ${ms / 1000} s`,
          ),
        ),
      ms,
    );
    const cleanup = () => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
    };
    client.on("connect", onConnect);
    client.on("error", onError);
  });
}
