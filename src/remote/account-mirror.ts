import { type AccountState, AccountStateSchema } from "../engine/account-state.ts";
import type { AccountSnapshot, AccountSummary } from "../engine/api.ts";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceEvents } from "../engine/services/service-module.ts";
import { parseJsonPayload } from "../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext, RemoteMessage } from "../mqtt/service-view.ts";
import type { LoadedMqttView } from "../mqtt/service-views.ts";

/** An engine event as a name and its payload (typed where it is emitted on the bus). */
export interface MirroredEvent {
  event: string;
  payload: unknown;
}

export type MirrorReceipt =
  | { kind: "ignored" }
  | { kind: "invalid"; reason: string }
  | { kind: "update"; events: MirroredEvent[] };

interface MirroredService {
  key: string;
  remote: MqttRemoteView<unknown, ServiceEvents, unknown>;
  state: unknown;
}

function sameError(a: AccountState["prevError"], b: AccountState["prevError"]): boolean {
  return a?.code === b?.code && a?.message === b?.message;
}

/**
 * One account of a remote bridge, rebuilt from its retained topics: the account's state (its own
 * topic) and, for each service the account uses, the state the service's remote view keeps. The
 * engine's own events are derived from state changes: `account.state` on any change, `mfa.required`
 * when the account becomes blocked, `sync.failed` when a new `prevError` appears outside sign-in.
 */
export class AccountMirror {
  #summary: AccountSummary;
  #state: AccountState | null = null;
  #stateJson = "";
  #services: MirroredService[] = [];
  readonly #views: readonly LoadedMqttView[];

  constructor(summary: AccountSummary, views: readonly LoadedMqttView[]) {
    this.#summary = summary;
    this.#views = views;
    this.update(summary);
  }

  get summary(): AccountSummary {
    return this.#summary;
  }

  get state(): AccountState | null {
    return this.#state;
  }

  /** A new summary from `bridge/info`: services turned on start empty, those turned off are dropped. */
  update(summary: AccountSummary): void {
    this.#summary = summary;
    const enabled = (key: string) => (summary.services as Record<string, boolean>)[key] === true;
    const kept = new Map(this.#services.map((s) => [s.key, s]));
    this.#services = this.#views
      .filter(({ key }) => enabled(key))
      .map(({ key, view }) => kept.get(key) ?? { key, remote: view.remote, state: view.remote.initial() });
  }

  /** Every topic filter this account needs. */
  filters(ctx: MqttViewContext): string[] {
    const id = this.#summary.id;
    return [ctx.topics.accountState(id), ...this.#services.flatMap((s) => s.remote.filters(ctx, id))];
  }

  receive(ctx: MqttViewContext, message: RemoteMessage): MirrorReceipt {
    const id = this.#summary.id;
    if (message.topic === ctx.topics.accountState(id)) return this.#receiveState(message.payload);
    for (const service of this.#services) {
      const receipt = service.remote.receive(ctx, id, service.state, message);
      if (receipt.kind !== "ignored") return receipt;
    }
    return { kind: "ignored" };
  }

  /** The account's snapshot; null until its state arrived. */
  snapshot(): AccountSnapshot | null {
    if (this.#state === null) return null;
    const services: Record<string, unknown> = {};
    for (const module of GENERIC_SERVICES) {
      const mirrored = this.#services.find((s) => s.key === module.key);
      services[module.key] = mirrored === undefined ? module.emptySnapshot() : mirrored.remote.snapshot(mirrored.state);
    }
    return { state: structuredClone(this.#state), ...services } as AccountSnapshot;
  }

  #receiveState(payload: Buffer): MirrorReceipt {
    // The bridge never deletes an account's state; an empty payload is a leftover being cleaned up.
    if (payload.length === 0) return { kind: "update", events: [] };
    const parsed = parseJsonPayload(payload, AccountStateSchema);
    if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
    const next = parsed.data;
    if (next.account !== this.#summary.id) return { kind: "invalid", reason: "the state names another account" };
    const json = JSON.stringify(next);
    if (json === this.#stateJson) return { kind: "update", events: [] };
    const previous = this.#state;
    this.#state = next;
    this.#stateJson = json;
    const account = next.account;
    const events: MirroredEvent[] = [{ event: "account.state", payload: structuredClone(next) }];
    if (previous !== null && previous.state !== "blocked" && next.state === "blocked") {
      events.push({ event: "mfa.required", payload: { account, state: structuredClone(next) } });
    }
    const error = next.prevError;
    if (previous !== null && error !== null && next.state !== "blocked" && !sameError(previous.prevError, error)) {
      events.push({ event: "sync.failed", payload: { account, code: error.code, message: error.message } });
    }
    return { kind: "update", events };
  }
}
