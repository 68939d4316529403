import type { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSummary } from "../engine/api.ts";
import type { ServiceEvents } from "../engine/services/service-module.ts";
import type { Component, DeviceDiscovery, EntityContext } from "./discovery/types.ts";
import type { Topics } from "./topics.ts";

/** What a service view gets from the MQTT front-end. */
export interface MqttViewContext {
  readonly topics: Topics;
  /** The program's version, for discovery `origin`. */
  readonly version: string;
}

/** One thing the MQTT front-end should do for a service. */
export type MqttOutput =
  /** A state message; retained ones go out only when their payload changed. */
  | { kind: "state"; topic: string; payload: string | Buffer; retain: boolean }
  /** A Home Assistant device (device-based discovery) owned by the service, e.g. one per Apple device. */
  | { kind: "discovery"; nodeId: string; payload: DeviceDiscovery }
  /** Removes a retained state topic (empty retained payload). */
  | { kind: "clear"; topic: string }
  /** Removes a Home Assistant device the service published before. */
  | { kind: "clear-discovery"; nodeId: string };

/**
 * How one service appears on MQTT: its topics under `<base>/<account>/<service>/…`, its payloads and
 * its Home Assistant entities. Lives in the service's folder (`mqtt.ts`), loaded only by the MQTT
 * front-end; the front-end itself names no data type.
 */
export interface MqttServiceView<Snapshot, Events extends ServiceEvents, RemoteState = unknown> {
  /** Everything retained the service publishes for an account's snapshot (on connect, reconnect, HA birth). */
  snapshot(ctx: MqttViewContext, account: string, snapshot: Snapshot): MqttOutput[];
  /** What to publish for each of the service's events. */
  readonly events: { readonly [K in keyof Events]?: (ctx: MqttViewContext, payload: Events[K][0]) => MqttOutput[] };
  /**
   * Optional: what to publish when the account's state changes (each `account.state`, and with every
   * snapshot), for values that depend on the session as well as on the service's data, e.g. whether a
   * location is still fresh while the session waits for a code.
   */
  accountState?(ctx: MqttViewContext, state: AccountState, snapshot: Snapshot): MqttOutput[];
  /** Entities the service adds to the account's Home Assistant device (data entities: they take `data` availability). */
  accountComponents(
    ctx: MqttViewContext,
    account: AccountSummary,
    availability: AccountAvailability,
  ): Record<string, Component>;
  /**
   * Retained state topics (MQTT filters) that only this service publishes, so a start can remove the ones a
   * previous run left behind for things that no longer exist.
   */
  ownedStateFilters(ctx: MqttViewContext): string[];
  /** The way back: how a remote engine rebuilds the service's snapshot and events from these topics. */
  readonly remote: MqttRemoteView<Snapshot, Events, RemoteState>;
}

/** One message a remote engine received on a topic of the service. */
export interface RemoteMessage {
  topic: string;
  /** Raw bytes; empty when a retained message was deleted. */
  payload: Buffer;
  /** Delivered from the broker's retained store (on subscribe) rather than live. */
  retained: boolean;
}

/** One engine event, as the service's event map names it. */
export type RemoteEvent<Events extends ServiceEvents> = {
  [K in keyof Events & string]: { event: K; payload: Events[K][0] };
}[keyof Events & string];

/** What a received message meant to the service. */
export type RemoteReceipt<Events extends ServiceEvents> =
  /** Not one of the service's topics. */
  | { kind: "ignored" }
  /** One of its topics, but the payload does not parse; the state is unchanged. */
  | { kind: "invalid"; reason: string }
  /** The state was updated; `events` are what the change means (empty when nothing changed). */
  | { kind: "update"; events: RemoteEvent<Events>[] };

/**
 * The reverse of a service's MQTT view, for `RemoteEngine` (src/remote/): which of the service's topics
 * to subscribe to for an account, and how each message changes a per-account state (kept by the view;
 * the remote engine holds it without looking inside) and which engine events it means. Payloads are
 * parsed with the data type's zod schemas; anything invalid is reported, never applied.
 */
export interface MqttRemoteView<Snapshot, Events extends ServiceEvents, State> {
  /** Topic filters (absolute, may use `+`) to subscribe to for one account. */
  filters(ctx: MqttViewContext, account: string): string[];
  /** The state of an account nothing was received for yet. */
  initial(): State;
  /** The snapshot `state` stands for (fresh arrays and objects: callers may keep it). */
  snapshot(state: State): Snapshot;
  /** Applies one message to `state` (mutating it) and says which events it means. */
  receive(ctx: MqttViewContext, account: string, state: State, message: RemoteMessage): RemoteReceipt<Events>;
  /** How each of the service's commands' results is parsed when it comes back over MQTT. */
  readonly results: Readonly<Record<string, z.ZodType>>;
}

/** The entity contexts an account device offers its services (see discovery/account-device.ts). */
export interface AccountAvailability {
  /**
   * Entities that show iCloud data: available while the bridge is online. They keep their last value
   * while the session waits for a code (a prompt must not make trackers "away" or sensors unknown);
   * freshness is shown by the service's own entities (last sync, stale, …).
   */
  data: EntityContext;
  /** Entities that act on iCloud (buttons, notify): also need the account's session. */
  action: EntityContext;
  /** Entities that must work while the account waits for a code. */
  control: EntityContext;
}
