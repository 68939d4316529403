import mqtt, { type MqttClient } from "mqtt";
import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSummary, EngineApi } from "../engine/api.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { clientOptionsFor } from "./client-options.ts";
import { accountDiscovery } from "./discovery/account-device.ts";
import { appleDeviceDiscovery } from "./discovery/apple-device.ts";
import { bridgeDiscovery } from "./discovery/bridge-device.ts";
import type { DeviceDiscovery } from "./discovery/types.ts";
import * as msg from "./messages.ts";
import { type MqttFrontendOptions, withDefaults } from "./options.ts";
import { Publisher } from "./publisher.ts";
import { safeUrl } from "./redact.ts";
import { handleRequest } from "./request-handler.ts";
import { StaleSweep } from "./stale-sweep.ts";
import { Topics } from "./topics.ts";

export interface MqttFrontendConfig {
  api: EngineApi;
  options: Partial<MqttFrontendOptions> & Pick<MqttFrontendOptions, "url">;
  logger?: Logger;
}

const BirthSchema = z.enum(["online", "offline"]);

/** The MQTT front-end: publishes the engine's state, answers requests, feeds HA discovery. */
export class MqttFrontend {
  readonly #api: EngineApi;
  readonly #options: MqttFrontendOptions;
  readonly #log: Logger;
  readonly #topics: Topics;
  readonly #out: Publisher;
  #client: MqttClient | undefined;
  #sweep: StaleSweep | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #republishTimer: NodeJS.Timeout | undefined;
  #connections = 0;

  constructor(config: MqttFrontendConfig) {
    this.#api = config.api;
    this.#options = withDefaults(config.options);
    this.#log = (config.logger ?? silentLogger).child({ module: "mqtt" });
    this.#topics = new Topics(this.#options.baseTopic, this.#options.discoveryPrefix);
    this.#out = new Publisher(this.#log);
    for (const account of this.#api.accounts()) {
      if (account.id === "bridge") throw new Error("an account id 'bridge' clashes with the <base>/bridge topics");
    }
  }

  get topics(): Topics {
    return this.#topics;
  }

  /** Connects; resolves once connected and the initial state is queued, rejects on a connect error (bad credentials, TLS). */
  start(): Promise<void> {
    if (this.#client !== undefined) return Promise.reject(new Error("MqttFrontend already started"));
    const o = this.#options;
    const clientOptions = clientOptionsFor(o, this.#topics.bridgeState);
    this.#log.info("connecting to MQTT", { url: safeUrl(o.url), clientId: o.clientId, username: o.username });
    const client = mqtt.connect(o.url, clientOptions);
    this.#client = client;
    this.#out.client = client;
    this.#listen();
    return new Promise<void>((resolve, reject) => {
      client.on("connect", () => {
        this.#onConnect().then(resolve, (error: unknown) => this.#warn("publishing after connect failed", error));
      });
      client.on("error", (error) => {
        this.#warn("MQTT error", error);
        if (this.#connections === 0) {
          client.end(true);
          reject(error);
        }
      });
      client.on("offline", () => this.#log.warn("MQTT connection lost; reconnecting"));
      client.on("message", (topic, payload, packet) => this.#onMessage(topic, payload, packet.retain));
    });
  }

  /** Publishes `offline`, waits for the broker to take it, then disconnects and drops bus listeners. */
  async stop(): Promise<void> {
    this.#api.bus.removeListeners(this);
    clearTimeout(this.#sweepTimer);
    clearTimeout(this.#republishTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#out.client = undefined;
    if (client === undefined) return;
    if (client.connected) {
      await client
        .publishAsync(this.#topics.bridgeState, msg.OFFLINE, { qos: 1, retain: true })
        .catch((error: unknown) => this.#warn("publishing offline failed", error));
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
  }

  #listen(): void {
    const bus = this.#api.bus;
    bus.on(this, "account.state", (state) => this.#publishAccount(state));
    bus.on(this, "mfa.required", ({ state }) => this.#publishAccount(state));
    bus.on(this, "device.updated", ({ account, device }) => this.#publishDevice(account, device));
    bus.on(this, "device.removed", ({ account, deviceId }) => this.#removeDevice(account, deviceId));
    bus.on(this, "call.new", ({ account, call }) => {
      this.#out.send(msg.lastCallMessage(this.#topics, account, call));
      this.#out.send(msg.callEventMessage(this.#topics, account, call));
    });
    bus.on(this, "photo.new", ({ account, asset, thumbnail }) => {
      for (const m of msg.latestPhotoMessages(this.#topics, account, asset, thumbnail)) this.#out.send(m);
      this.#out.send(msg.photoEventMessage(this.#topics, account, asset));
    });
    bus.on(this, "call.last", ({ account, call }) => this.#out.send(msg.lastCallMessage(this.#topics, account, call)));
    bus.on(this, "photo.latest", ({ account, asset, thumbnail }) => {
      for (const m of msg.latestPhotoMessages(this.#topics, account, asset, thumbnail)) this.#out.send(m);
    });
    bus.on(this, "photo.count", ({ account, count }) =>
      this.#out.send(msg.photoCountMessage(this.#topics, account, count)),
    );
    bus.on(this, "sync.failed", ({ account, code }) => this.#log.warn("sync failed", { account, code }));
  }

  async #onConnect(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    const first = this.#connections === 0;
    this.#connections += 1;
    this.#log.info("connected to MQTT", { reconnect: !first });
    this.#out.publish(this.#topics.bridgeState, msg.ONLINE, true);
    const filters = [this.#topics.requestFilter, this.#options.statusTopic];
    if (first) {
      this.#sweep = new StaleSweep(this.#topics);
      filters.push(this.#topics.discoveryFilter, this.#topics.deviceFilter);
    }
    await client.subscribeAsync(filters, { qos: 1 });
    // Every (re)connect re-sends everything retained: the broker may have restarted without persistence.
    this.#publishAll(true);
    if (first) this.#sweepTimer = setTimeout(() => this.#finishSweep(), this.#options.staleSweepMs);
  }

  #onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (this.#sweep?.matches(topic)) {
      if (retained) this.#sweep.record(topic, payload);
      return;
    }
    if (topic === this.#options.statusTopic) {
      const birth = BirthSchema.safeParse(payload.toString("utf8").trim());
      if (birth.success && birth.data === "online") this.#scheduleRepublish();
      return;
    }
    const command = this.#topics.commandOf(topic);
    if (command !== undefined) void this.#handleRequest(command, payload);
  }

  async #handleRequest(command: string, payload: Buffer): Promise<void> {
    const response = await handleRequest(this.#api, command, payload, this.#log);
    this.#out.publish(this.#topics.response(command), JSON.stringify(response), false);
  }

  #finishSweep(): void {
    const client = this.#client;
    const sweep = this.#sweep;
    this.#sweep = undefined;
    if (client === undefined || sweep === undefined) return;
    client
      .unsubscribeAsync([this.#topics.discoveryFilter, this.#topics.deviceFilter])
      .catch((error: unknown) => this.#warn("unsubscribe failed", error));
    for (const topic of sweep.stale(this.#out.owned)) {
      this.#log.info("removing stale retained topic", { topic });
      this.#out.clear(topic);
    }
  }

  #scheduleRepublish(): void {
    clearTimeout(this.#republishTimer);
    const delay = this.#options.republishDelayMs;
    const jitter = Math.random() * Math.min(delay * 0.1, 5_000);
    this.#republishTimer = setTimeout(() => {
      this.#log.info("Home Assistant is online; re-publishing state");
      this.#out.publish(this.#topics.bridgeState, msg.ONLINE, true);
      this.#publishStates(true);
    }, delay + jitter);
  }

  #publishAll(force: boolean): void {
    const accounts = this.#api.accounts();
    this.#out.send(
      {
        topic: this.#topics.bridgeInfo,
        payload: JSON.stringify(msg.bridgeInfo(this.#api.version, accounts)),
        retain: true,
      },
      force,
    );
    if (this.#options.discovery) {
      this.#sendDiscovery(this.#topics.bridgeNodeId(), bridgeDiscovery(this.#topics, this.#api.version), force);
      for (const account of accounts) {
        this.#sendAccountDiscovery(account, force);
        // Device configs too: a broker restarted without persistence has lost them (HA birth does not need this).
        for (const device of this.#snapshotDevices(account.id)) this.#sendDeviceDiscovery(account.id, device, force);
      }
    }
    this.#publishStates(force);
  }

  #publishStates(force: boolean): void {
    for (const account of this.#api.accounts()) {
      try {
        const snapshot = this.#api.snapshot(account.id);
        for (const device of snapshot.devices) this.#sendDeviceDiscovery(account.id, device, false);
        for (const m of msg.snapshotMessages(this.#topics, account.id, snapshot)) this.#out.send(m, force);
      } catch (error) {
        this.#warn("reading the account snapshot failed", error, { account: account.id });
      }
    }
  }

  #snapshotDevices(account: string): FmipDevice[] {
    try {
      return this.#api.snapshot(account).devices;
    } catch (error) {
      this.#warn("reading the account snapshot failed", error, { account });
      return [];
    }
  }

  #publishAccount(state: AccountState): void {
    const summary = this.#api.accounts().find((a) => a.id === state.account);
    if (summary !== undefined) this.#sendAccountDiscovery(summary, false);
    for (const m of msg.accountMessages(this.#topics, state)) this.#out.send(m);
  }

  #publishDevice(account: string, device: FmipDevice): void {
    this.#sendDeviceDiscovery(account, device, false);
    const message = msg.deviceMessage(this.#topics, account, device);
    this.#out.owned.add(message.topic);
    this.#out.send(message);
  }

  #removeDevice(account: string, deviceId: string): void {
    this.#out.clear(this.#topics.discoveryConfig(this.#topics.deviceNodeId(account, deviceId)));
    this.#out.clear(this.#topics.device(account, deviceId));
  }

  #sendAccountDiscovery(account: AccountSummary, force: boolean): void {
    if (!this.#options.discovery) return;
    this.#sendDiscovery(
      this.#topics.accountNodeId(account.id),
      accountDiscovery(this.#topics, this.#api.version, account),
      force,
    );
  }

  #sendDeviceDiscovery(account: string, device: FmipDevice, force: boolean): void {
    this.#out.owned.add(this.#topics.device(account, device.id));
    if (!this.#options.discovery) return;
    const nodeId = this.#topics.deviceNodeId(account, device.id);
    this.#sendDiscovery(nodeId, appleDeviceDiscovery(this.#topics, this.#api.version, account, device), force);
  }

  #sendDiscovery(nodeId: string, payload: DeviceDiscovery, force: boolean): void {
    const topic = this.#topics.discoveryConfig(nodeId);
    this.#out.owned.add(topic);
    this.#out.send({ topic, payload: JSON.stringify(payload), retain: true }, force);
  }

  #warn(message: string, error: unknown, context: Record<string, unknown> = {}): void {
    this.#log.warn(message, { ...context, error: error instanceof Error ? error.message : String(error) });
  }
}
