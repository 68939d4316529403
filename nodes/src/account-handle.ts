import {
  type AccountState,
  type AnyEvent,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type EngineApi,
  EngineError,
  type EngineEvents,
  EventBus,
  type Logger,
} from "icloud2mqtt/engine";
import type { ConnectionListener, MqttConnection, RemoteEngine as RemoteEngineType } from "icloud2mqtt/remote";
import type { AccountPlan } from "./account-settings.ts";
import { accountStatus, bridgeOffline, type NodeStatus, notStarted, shortStatusText } from "./account-status.ts";
import { type BrokerConnection, brokerConnection, isBrokerNode } from "./broker-connection.ts";
import { enginePool, type Lease } from "./engine-pool.ts";
import { toNodeError } from "./node-errors.ts";

/** What the editor's account dialog and open editors learn about an account node (no secrets). */
export interface AccountView {
  id: string;
  mode: AccountPlan["mode"] | null;
  /** The engine's account id (bridge mode: the bridge's). */
  account: string | null;
  status: NodeStatus;
  /** Bridge mode: the bridge answers; embedded: true once the engine runs. */
  online: boolean;
  state: AccountState | null;
  /** What the runtime could not do (a setting, a missing broker); null when fine. */
  problem: string | null;
}

export interface HandleOptions {
  nodeId: string;
  logger: Logger;
  /** `RED.nodes.getNode`, to find the mqtt-broker node in bridge mode. */
  getNode(id: string): unknown;
  /** Bridge mode: the wait before `start()` is tried again when no icloud2mqtt answered. */
  bridgeRetryMs: number;
  /** Bridge mode: how long one `start()` waits for the bridge's retained topics. */
  bridgeStartTimeoutMs: number;
}

type Change = { change: [AccountView] };

/**
 * What an `icloud-account` config node owns: the engine for its Apple ID (a lease on the process's
 * shared embedded engine, or a `RemoteEngine` on the chosen mqtt-broker node), the events of its
 * account on `bus`, and the status every node of the account shows. Consumer nodes subscribe to
 * `bus` and `changes` under their own owner and remove their listeners when they close.
 */
export class AccountHandle {
  readonly nodeId: string;
  /** The engine's events for this account only (all of them, also those of data types added later). */
  readonly bus = new EventBus<EngineEvents>();
  /** A new view after every status or state change. */
  readonly changes = new EventBus<Change>();
  readonly #log: Logger;
  readonly #options: HandleOptions;
  #mode: AccountPlan["mode"] | null = null;
  #api: EngineApi | null = null;
  #account: string | null = null;
  #problem: string | null = null;
  #status: NodeStatus = notStarted("starting");
  #lease: Lease | null = null;
  #remote: RemoteEngineType | null = null;
  #connection: BrokerConnection | null = null;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #lastView = "";
  #closeArgs = { removed: false, graceMs: 0 };
  /** Settles when the engine has started (or failed to); `close()` waits for it. */
  #starting: Promise<void> = Promise.resolve();

  constructor(options: HandleOptions) {
    this.nodeId = options.nodeId;
    this.#options = options;
    this.#log = options.logger;
  }

  /** Starts the engine the plan asks for; problems show in the status and the view, never as a throw. */
  start(plan: AccountPlan | Error): void {
    if (plan instanceof Error) {
      this.#fail(plan.message);
      return;
    }
    this.#mode = plan.mode;
    this.#starting = plan.mode === "embedded" ? this.#startEmbedded(plan) : this.#startBridge(plan);
  }

  get status(): NodeStatus {
    return this.#status;
  }

  /** The engine's account id, once known. */
  get account(): string | null {
    return this.#account;
  }

  view(): AccountView {
    return {
      id: this.nodeId,
      mode: this.#mode,
      account: this.#account,
      status: this.#status,
      online: this.#online(),
      state: this.state(),
      problem: this.#problem,
    };
  }

  /** The account's state, when the engine knows it. */
  state(): AccountState | null {
    if (this.#api === null || this.#account === null) return null;
    try {
      return this.#api.snapshot(this.#account).state;
    } catch {
      return null;
    }
  }

  /** The engine and account, or the reason there is none yet (as an EngineError, mapped like all others). */
  ready(): { api: EngineApi; account: string } {
    if (this.#api !== null && this.#account !== null) return { api: this.#api, account: this.#account };
    const why = this.#problem ?? (this.#mode === "bridge" ? "icloud2mqtt has not answered yet" : "still starting");
    throw new EngineError(this.#mode === "bridge" ? "BRIDGE_OFFLINE" : "INVALID_STATE", `the iCloud account: ${why}`);
  }

  /** Runs a command for this account (`account` is filled in). Rejects with the engine's EngineError. */
  async execute<C extends CommandName>(command: C, input: Omit<CommandInput<C>, "account">): Promise<CommandResult<C>> {
    const { api, account } = this.ready();
    return api.execute(command, { ...input, account } as CommandInput<C>);
  }

  /** Stops listening and gives the engine back (embedded: the pool keeps it for a redeploy). */
  async close(removed: boolean, graceMs: number): Promise<void> {
    this.#closed = true;
    this.#closeArgs = { removed, graceMs };
    clearTimeout(this.#retry);
    await this.#starting;
    this.#api?.bus.removeListeners(this);
    this.#api = null;
    const lease = this.#lease;
    this.#lease = null;
    await lease?.release({ removed, graceMs });
    const remote = this.#remote;
    this.#remote = null;
    await remote?.stop();
    await this.#connection?.close();
    this.#connection = null;
  }

  // ---------- embedded ----------

  async #startEmbedded(plan: Extract<AccountPlan, { mode: "embedded" }>): Promise<void> {
    try {
      const lease = await enginePool.acquire(plan, this.#log);
      if (this.#closed) {
        await lease.release(this.#closeArgs);
        return;
      }
      this.#lease = lease;
      if (lease.warning !== null) this.#log.warn(lease.warning);
      this.#attach(lease.engine, plan.accountId);
    } catch (error) {
      this.#fail(toNodeError(error).message);
    }
  }

  // ---------- bridge ----------

  async #startBridge(plan: Extract<AccountPlan, { mode: "bridge" }>): Promise<void> {
    const broker = this.#options.getNode(plan.brokerId);
    if (!isBrokerNode(broker)) {
      this.#fail("bridge mode: the MQTT broker node is missing");
      return;
    }
    this.#connection = brokerConnection(broker, this.nodeId);
    const { RemoteEngine } = await import("icloud2mqtt/remote");
    const remote = new RemoteEngine({
      connection: this.#observed(this.#connection),
      baseTopic: plan.baseTopic,
      logger: this.#log,
      startTimeoutMs: this.#options.bridgeStartTimeoutMs,
    });
    this.#remote = remote;
    await this.#tryBridge(remote, plan);
  }

  async #tryBridge(remote: RemoteEngineType, plan: Extract<AccountPlan, { mode: "bridge" }>): Promise<void> {
    try {
      await remote.start();
    } catch (error) {
      if (this.#closed) return;
      this.#problem = toNodeError(error).message;
      this.#setStatus(bridgeOffline());
      this.#retry = setTimeout(() => {
        this.#starting = this.#tryBridge(remote, plan);
      }, this.#options.bridgeRetryMs);
      return;
    }
    if (this.#closed) return;
    const account = plan.accountId ?? remote.accounts()[0]?.id;
    if (account === undefined || !remote.accounts().some((a) => a.id === account)) {
      const known = remote.accounts().map((a) => a.id);
      this.#fail(`icloud2mqtt has no account ${JSON.stringify(plan.accountId)} (it has: ${known.join(", ")})`);
      return;
    }
    this.#problem = null;
    this.#attach(remote, account);
  }

  /** The connection with a status refresh after everything it delivers (bridge online/offline). */
  #observed(connection: MqttConnection): MqttConnection {
    return {
      get connected() {
        return connection.connected;
      },
      subscribe: (filters) => connection.subscribe(filters),
      unsubscribe: (filters) => connection.unsubscribe(filters),
      publish: (topic, payload, options) => connection.publish(topic, payload, options),
      listen: (listener: ConnectionListener) =>
        connection.listen({
          message: (topic, payload, retained) => {
            listener.message(topic, payload, retained);
            this.#refresh();
          },
          connect: () => {
            listener.connect();
            this.#refresh();
          },
          disconnect: () => {
            listener.disconnect();
            this.#refresh();
          },
        }),
    };
  }

  // ---------- shared ----------

  #attach(api: EngineApi, account: string): void {
    this.#api = api;
    this.#account = account;
    api.bus.onAny(this, (...event) => this.#forward(event));
    this.#refresh();
  }

  #forward(event: AnyEvent<EngineEvents>): void {
    const [name, payload] = event;
    const owner = (payload as { account?: unknown }).account;
    if (owner !== this.#account) return;
    (this.bus.emit as (event: string, ...args: unknown[]) => void)(name, ...event.slice(1));
    if (name === "account.state") this.#refresh();
  }

  #online(): boolean {
    if (this.#remote !== null) return this.#remote.online;
    return this.#api !== null;
  }

  #refresh(): void {
    if (this.#closed || this.#api === null) return;
    if (this.#remote !== null && !this.#remote.online) {
      this.#setStatus(bridgeOffline());
      return;
    }
    const state = this.state();
    this.#setStatus(state === null ? notStarted("no account state yet") : accountStatus(state));
  }

  #fail(message: string): void {
    this.#problem = message;
    this.#log.error(message);
    this.#setStatus({ fill: "red", shape: "ring", text: shortStatusText(message) });
  }

  #setStatus(status: NodeStatus): void {
    this.#status = status;
    if (this.#closed) return;
    // Bridge mode refreshes after every MQTT message: only real changes go to nodes and editors.
    const view = this.view();
    const seen = JSON.stringify(view);
    if (seen === this.#lastView) return;
    this.#lastView = seen;
    this.changes.emit("change", view);
  }
}
