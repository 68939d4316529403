import mqtt, { type MqttClient } from "mqtt";
import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../engine/api.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { clientOptionsFor } from "./client-options.ts";
import { bridgeDiscovery } from "./discovery/bridge-device.ts";
import type { DeviceDiscovery } from "./discovery/types.ts";
import { DiscoveryLedger } from "./discovery-ledger.ts";
import * as msg from "./messages.ts";
import { type MqttFrontendOptions, withDefaults } from "./options.ts";
import { Publisher } from "./publisher.ts";
import { safeUrl } from "./redact.ts";
import { handleRequest } from "./request-handler.ts";
import type { MqttOutput, MqttViewContext } from "./service-view.ts";
import { composeAccountDiscovery, type LoadedMqttView, loadMqttViews, serviceEnabled } from "./service-views.ts";
import { StaleSweep } from "./stale-sweep.ts";
import { Topics } from "./topics.ts";

export interface MqttFrontendConfig {
  api: EngineApi;
  options: Partial<MqttFrontendOptions> & Pick<MqttFrontendOptions, "url">;
  logger?: Logger;
  /** Where the discovery ledger is kept (what was published to Home Assistant); memory only without it. */
  stateDir?: string;
}

const BirthSchema = z.enum(["online", "offline"]);

/**
 * The MQTT front-end: publishes the engine's state, answers requests, feeds HA discovery. What each
 * data type publishes comes from its service's MQTT view (`src/engine/services/<name>/mqtt.ts`).
 */
export class MqttFrontend {
  readonly #api: EngineApi;
  readonly #options: MqttFrontendOptions;
  readonly #log: Logger;
  readonly #topics: Topics;
  readonly #out: Publisher;
  readonly #ctx: MqttViewContext;
  readonly #stateDir: string | undefined;
  #ledger: DiscoveryLedger | undefined;
  #views: LoadedMqttView[] = [];
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
    this.#ctx = { topics: this.#topics, version: this.#api.version };
    this.#out = new Publisher(this.#log);
    this.#stateDir = config.stateDir;
    for (const account of this.#api.accounts()) {
      if (account.id === "bridge") throw new Error("an account id 'bridge' clashes with the <base>/bridge topics");
    }
  }

  get topics(): Topics {
    return this.#topics;
  }

  /** Connects; resolves once connected and the initial state is queued, rejects on a connect error (bad credentials, TLS). */
  async start(): Promise<void> {
    if (this.#client !== undefined) throw new Error("MqttFrontend already started");
    this.#views = await loadMqttViews();
    this.#ledger = await DiscoveryLedger.open(this.#stateDir, this.#topics.idPrefix, this.#log);
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
    await this.#ledger?.flush();
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
    bus.on(this, "sync.failed", ({ account, code }) => this.#log.warn("sync failed", { account, code }));
    const on = bus.on.bind(bus) as (owner: object, event: string, listener: (payload: never) => void) => void;
    for (const { view } of this.#views) {
      for (const [event, render] of Object.entries(view.events)) {
        if (render === undefined) continue;
        on(this, event, (payload) => this.#apply(render(this.#ctx, payload), false));
      }
    }
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
      const owned = [
        this.#topics.anyAccount("state"),
        this.#topics.anyAccount("availability"),
        ...this.#views.flatMap(({ view }) => view.ownedStateFilters(this.#ctx)),
      ];
      this.#sweep = new StaleSweep(this.#topics, owned);
      filters.push(...this.#sweep.filters);
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
    // The code entity's state goes back to empty, whatever was typed.
    if (command === "mfa") for (const account of this.#api.accounts()) this.#clearMfaCode(account.id);
  }

  /** An empty, never retained state for the MFA code entity (see `mfaCodeText`). */
  #clearMfaCode(account: string): void {
    this.#out.publish(this.#topics.mfaCodeState(account), "", false);
  }

  #finishSweep(): void {
    const client = this.#client;
    const sweep = this.#sweep;
    this.#sweep = undefined;
    if (client === undefined || sweep === undefined) return;
    client.unsubscribeAsync(sweep.filters).catch((error: unknown) => this.#warn("unsubscribe failed", error));
    const bridge = `${this.#topics.base}/bridge/`;
    for (const topic of sweep.stale(this.#out.owned)) {
      if (topic.startsWith(bridge)) continue; // <base>/bridge/state matches <base>/+/state
      this.#log.info("removing stale retained topic", { topic });
      this.#out.clear(topic);
    }
    // Devices published by an earlier run that this one does not publish (removed while stopped, a
    // removed account, discovery switched off), even when the broker lost their retained configs.
    for (const nodeId of this.#ledger?.nodes() ?? []) {
      const topic = this.#topics.discoveryConfig(nodeId);
      if (this.#out.owned.has(topic)) continue;
      this.#log.info("removing a Home Assistant device this bridge no longer publishes", { nodeId });
      this.#out.clear(topic);
      this.#ledger?.forget(nodeId);
    }
  }

  #scheduleRepublish(): void {
    clearTimeout(this.#republishTimer);
    const delay = this.#options.republishDelayMs;
    const jitter = Math.random() * Math.min(delay * 0.1, 5_000);
    this.#republishTimer = setTimeout(() => {
      this.#log.info("Home Assistant is online; re-publishing state");
      this.#out.publish(this.#topics.bridgeState, msg.ONLINE, true);
      this.#publishStates(false);
    }, delay + jitter);
  }

  /** Everything retained: bridge info, discovery, and every account's state (forced: the broker may have lost it). */
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
      for (const account of accounts) this.#sendAccountDiscovery(account, force);
    }
    this.#publishStates(force);
  }

  /**
   * Every account's retained state from its snapshot, sent again even when unchanged (Home Assistant
   * came back or the broker reconnected); services' own discovery is forced only with `forceDiscovery`.
   */
  #publishStates(forceDiscovery: boolean): void {
    for (const account of this.#api.accounts()) {
      let snapshot: AccountSnapshot;
      try {
        snapshot = this.#api.snapshot(account.id);
      } catch (error) {
        this.#warn("reading the account snapshot failed", error, { account: account.id });
        continue;
      }
      for (const m of msg.accountMessages(this.#topics, snapshot.state)) this.#out.send(m, true);
      this.#clearMfaCode(account.id);
      const services = snapshot as unknown as Record<string, unknown>;
      for (const { key, view } of this.#views) {
        if (!serviceEnabled(account, key)) continue;
        this.#apply(view.snapshot(this.#ctx, account.id, services[key]), true, forceDiscovery);
        if (view.accountState) this.#apply(view.accountState(this.#ctx, snapshot.state, services[key]), true);
      }
    }
  }

  /** Carries out what a service view asked for. */
  #apply(outputs: MqttOutput[], forceState: boolean, forceDiscovery = false): void {
    for (const output of outputs) {
      switch (output.kind) {
        case "state":
          this.#out.send({ topic: output.topic, payload: output.payload, retain: output.retain }, forceState);
          break;
        case "discovery":
          if (this.#options.discovery) this.#sendDiscovery(output.nodeId, output.payload, forceDiscovery);
          break;
        case "clear":
          this.#out.clear(output.topic);
          break;
        case "clear-discovery":
          this.#out.clear(this.#topics.discoveryConfig(output.nodeId));
          this.#ledger?.forget(output.nodeId);
          break;
      }
    }
  }

  #publishAccount(state: AccountState): void {
    const summary = this.#api.accounts().find((a) => a.id === state.account);
    if (summary !== undefined) this.#sendAccountDiscovery(summary, false);
    for (const m of msg.accountMessages(this.#topics, state)) this.#out.send(m);
    if (summary === undefined || !this.#views.some(({ view }) => view.accountState)) return;
    let services: Record<string, unknown>;
    try {
      services = this.#api.snapshot(state.account) as unknown as Record<string, unknown>;
    } catch (error) {
      this.#warn("reading the account snapshot failed", error, { account: state.account });
      return;
    }
    for (const { key, view } of this.#views) {
      if (view.accountState && serviceEnabled(summary, key))
        this.#apply(view.accountState(this.#ctx, state, services[key]), false);
    }
  }

  #sendAccountDiscovery(account: AccountSummary, force: boolean): void {
    if (!this.#options.discovery) return;
    this.#sendDiscovery(
      this.#topics.accountNodeId(account.id),
      composeAccountDiscovery(this.#ctx, account, this.#views),
      force,
    );
  }

  /**
   * Publishes a device's discovery. Components published before and missing now are first sent as
   * tombstones (`{"p": <platform>}`, which makes Home Assistant remove them), then the payload without them.
   */
  #sendDiscovery(nodeId: string, payload: DeviceDiscovery, force: boolean): void {
    const topic = this.#topics.discoveryConfig(nodeId);
    const tombstones = this.#ledger?.tombstones(nodeId, payload) ?? {};
    if (Object.keys(tombstones).length > 0) {
      this.#log.info("removing Home Assistant components", { nodeId, components: Object.keys(tombstones) });
      const removal = { ...payload, cmps: { ...payload.cmps, ...tombstones } };
      this.#out.send({ topic, payload: JSON.stringify(removal), retain: true }, true);
    }
    this.#out.send({ topic, payload: JSON.stringify(payload), retain: true }, force);
    this.#ledger?.record(nodeId, payload);
  }

  #warn(message: string, error: unknown, context: Record<string, unknown> = {}): void {
    this.#log.warn(message, { ...context, error: error instanceof Error ? error.message : String(error) });
  }
}
