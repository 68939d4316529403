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
export interface MqttServiceView<Snapshot, Events extends ServiceEvents> {
  /** Everything retained the service publishes for an account's snapshot (on connect, reconnect, HA birth). */
  snapshot(ctx: MqttViewContext, account: string, snapshot: Snapshot): MqttOutput[];
  /** What to publish for each of the service's events. */
  readonly events: { readonly [K in keyof Events]?: (ctx: MqttViewContext, payload: Events[K][0]) => MqttOutput[] };
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
}

/** The entity contexts an account device offers its services (see discovery/account-device.ts). */
export interface AccountAvailability {
  /** Entities that show iCloud data: available while the bridge is online and the account's session active. */
  data: EntityContext;
  /** Entities that must work while the account waits for a code. */
  control: EntityContext;
}
