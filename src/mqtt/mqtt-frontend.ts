import type { IPublishPacket, MqttClient } from "mqtt";
import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../engine/api.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { BrokerConnection } from "./connection.ts";
import { bridgeDiscovery } from "./discovery/bridge-device.ts";
import type { DeviceDiscovery } from "./discovery/types.ts";
import { DiscoveryLedger } from "./discovery-ledger.ts";
import * as msg from "./messages.ts";
import { type MqttFrontendOptions, withDefaults } from "./options.ts";
import { Publisher } from "./publisher.ts";
import { handleRequest } from "./request-handler.ts";
import { retainedRequestResponse } from "./requests.ts";
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
  readonly #connection: BrokerConnection;
  #views: LoadedMqttView[] = [];
  #started = false;
  #sweep: StaleSweep | undefined;
  /** The sweep stopped collecting; it deletes an account's stale topics once that account completed a refresh. */
  #sweepCollected = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #republishTimer: NodeJS.Timeout | undefined;
  /** The protocol of the current connection (5, or 4 = 3.1.1 when the broker refused 5). */
  #protocol: 4 | 5 = 5;
  /** MQTT 3.1.1 echoes our own publishes: request topics we just cleared, whose empty echo is not a request. */
  readonly #clearing = new Set<string>();

  constructor(config: MqttFrontendConfig) {
    this.#api = config.api;
    this.#options = withDefaults(config.options);
    this.#log = (config.logger ?? silentLogger).child({ module: "mqtt" });
    this.#topics = new Topics(this.#options.baseTopic, this.#options.discoveryPrefix);
    this.#ctx = { topics: this.#topics, version: this.#api.version };
    this.#out = new Publisher(this.#log);
    this.#stateDir = config.stateDir;
    this.#connection = new BrokerConnection(this.#options, this.#topics.bridgeState, this.#log, {
      connected: (client, version, first) => this.#onConnect(client, version, first),
      message: (topic, payload, packet) => this.#onMessage(topic, payload, packet),
    });
    for (const account of this.#api.accounts()) {
      if (account.id === "bridge") throw new Error("an account id 'bridge' clashes with the <base>/bridge topics");
    }
  }

  get topics(): Topics {
    return this.#topics;
  }

  /**
   * Connects. Resolves once connected and the initial state is queued, or once the broker was found
   * not reachable yet (it keeps trying with back-off; everything is published when it comes);
   * rejects when the broker refuses the connection (credentials, TLS) before the first success.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("MqttFrontend already started");
    this.#started = true;
    this.#views = await loadMqttViews();
    this.#ledger = await DiscoveryLedger.open(this.#stateDir, this.#topics.idPrefix, this.#log);
    this.#listen();
    try {
      await this.#connection.start();
    } catch (error) {
      this.#api.bus.removeListeners(this);
      throw error;
    }
  }

  /** Publishes `offline`, waits for the broker to take it, then disconnects and drops bus listeners. */
  async stop(): Promise<void> {
    this.#api.bus.removeListeners(this);
    clearTimeout(this.#sweepTimer);
    clearTimeout(this.#republishTimer);
    this.#out.client = undefined;
    await this.#ledger?.flush();
    await this.#connection.stop({ topic: this.#topics.bridgeState, payload: msg.OFFLINE });
  }

  #listen(): void {
    const bus = this.#api.bus;
    bus.on(this, "account.state", (state) => {
      this.#publishAccount(state);
      this.#sweepStale();
    });
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

  async #onConnect(client: MqttClient, version: 4 | 5, first: boolean): Promise<void> {
    this.#out.client = client;
    this.#clearing.clear();
    this.#out.publish(this.#topics.bridgeState, msg.ONLINE, true);
    // Requests retain-as-published (MQTT 5), so one published with the retain flag is recognised
    // and refused; no-local, so our own clearing of it does not come back as a request.
    const filters: Record<string, { qos: 1; rap?: boolean; nl?: boolean }> = {
      [this.#topics.requestFilter]: { qos: 1, rap: true, nl: true },
      [this.#options.statusTopic]: { qos: 1 },
    };
    if (first) {
      const owned = [
        this.#topics.anyAccount("state"),
        this.#topics.anyAccount("availability"),
        ...this.#views.flatMap(({ view }) => view.ownedStateFilters(this.#ctx)),
      ];
      this.#sweep = new StaleSweep(this.#topics, owned);
      for (const filter of this.#sweep.filters) filters[filter] = { qos: 1 };
    }
    this.#protocol = version;
    await client.subscribeAsync(filters);
    // Every (re)connect re-sends everything retained: the broker may have restarted without persistence.
    this.#publishAll(true);
    if (first) this.#sweepTimer = setTimeout(() => this.#finishSweep(), this.#options.staleSweepMs);
  }

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (this.#sweep?.matches(topic) === true && !this.#sweepCollected) {
      if (packet.retain) this.#sweep.record(topic, payload);
      return;
    }
    if (topic === this.#options.statusTopic) {
      const birth = BirthSchema.safeParse(payload.toString("utf8").trim());
      if (birth.success && birth.data === "online") this.#scheduleRepublish();
      return;
    }
    const command = this.#topics.commandOf(topic);
    if (command === undefined) return;
    if (packet.retain) {
      this.#refuseRetained(command, topic, payload);
      return;
    }
    // Our own clearing of a retained request, echoed by an MQTT 3.1.1 broker: not a request.
    if (payload.length === 0 && this.#clearing.delete(topic)) return;
    void this.#handleRequest(command, payload);
  }

  /**
   * A request that arrives retained (it was published with the retain flag) is never executed: it
   * would run again on every reconnect. It is answered with an error and removed from the broker.
   */
  #refuseRetained(command: string, topic: string, payload: Buffer): void {
    // An empty retained message is a deletion (ours or someone's), not a request.
    if (payload.length === 0) return;
    this.#log.warn("refused a retained MQTT request; removing it from the broker", { command });
    this.#out.publish(this.#topics.response(command), JSON.stringify(retainedRequestResponse(command, payload)), false);
    if (this.#protocol === 4) this.#clearing.add(topic);
    this.#out.publish(topic, "", true);
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

  /** Stops collecting retained topics; the stale ones are deleted as accounts complete their first refresh. */
  #finishSweep(): void {
    const client = this.#connection.client;
    const sweep = this.#sweep;
    if (client === undefined || sweep === undefined) return;
    this.#sweepCollected = true;
    client.unsubscribeAsync(sweep.filters).catch((error: unknown) => this.#warn("unsubscribe failed", error));
    this.#sweepStale();
  }

  /**
   * Deletes the stale retained topics of every account whose enabled services all completed a
   * refresh (until then a fresh state folder would remove devices that are only not known yet), and
   * those of accounts no longer configured.
   */
  #sweepStale(): void {
    const sweep = this.#sweep;
    if (sweep === undefined || !this.#sweepCollected) return;
    const pending = new Set<string>();
    for (const account of this.#api.accounts()) {
      if (!this.#refreshedOnce(account.id)) pending.add(account.id);
    }
    const accounts = this.#api.accounts().map((a) => a.id);
    const bridge = `${this.#topics.base}/bridge/`;
    for (const topic of sweep.stale(this.#out.owned)) {
      if (topic.startsWith(bridge)) continue; // <base>/bridge/state matches <base>/+/state
      const owner = sweep.accountOf(topic, accounts);
      if (owner !== undefined && pending.has(owner)) continue;
      this.#log.info("removing stale retained topic", { topic });
      sweep.forget(topic);
      this.#out.clear(topic);
    }
    if (pending.size > 0) return;
    // Devices published by an earlier run that this one does not publish (removed while stopped, a
    // removed account, discovery switched off), even when the broker lost their retained configs;
    // only once every account completed a refresh, so nothing that is only not known yet goes.
    for (const nodeId of this.#ledger?.nodes() ?? []) {
      const topic = this.#topics.discoveryConfig(nodeId);
      if (this.#out.owned.has(topic)) continue;
      this.#log.info("removing a Home Assistant device this bridge no longer publishes", { nodeId });
      this.#out.clear(topic);
      this.#ledger?.forget(nodeId);
    }
    this.#sweep = undefined;
  }

  #refreshedOnce(account: string): boolean {
    try {
      const services = this.#api.snapshot(account).state.services as Record<
        string,
        { enabled: boolean; available: boolean; last_sync: string | null }
      >;
      // A service that cannot run for this account (not offered, e.g. Safari history) never will refresh.
      return Object.values(services).every((s) => !s.enabled || !s.available || s.last_sync !== null);
    } catch {
      return false;
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
