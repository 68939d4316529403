import type { FmipDevice } from "icloud2mqtt/engine";
import type { NodeStatus } from "./account-status.ts";

/**
 * The device node's logic: which devices it follows, which changes it passes on, and the status
 * line under it. The engine only announces a device when its data changed; the filters narrow that.
 */

export type DeviceFilter =
  /** Every change of the device's data. */
  | { kind: "change" }
  /** Only when the device arrives home or leaves (needs the account's home location). */
  | { kind: "home" }
  /** Only when the battery drops below `below` percent (again after it was at or above it). */
  | { kind: "battery"; below: number };

/** `selector`: a device id or name (case-insensitive); empty: every device of the account. */
export function matchesDevice(selector: string, device: FmipDevice): boolean {
  if (selector === "") return true;
  return device.id === selector || device.name.toLowerCase() === selector.toLowerCase();
}

interface Seen {
  atHome: boolean | undefined;
  battery: number | null | undefined;
}

export class DeviceWatch {
  readonly #selector: string;
  readonly #filter: DeviceFilter;
  readonly #seen = new Map<string, Seen>();

  constructor(selector: string, filter: DeviceFilter) {
    this.#selector = selector.trim();
    this.#filter = filter;
  }

  matches(device: FmipDevice): boolean {
    return matchesDevice(this.#selector, device);
  }

  /** Remembers devices known before the node started (the snapshot), without passing them on. */
  seed(devices: readonly FmipDevice[]): void {
    for (const device of devices) if (this.matches(device)) this.#remember(device);
  }

  /** A device changed: whether the node sends it. */
  update(device: FmipDevice): boolean {
    if (!this.matches(device)) return false;
    const before = this.#seen.get(device.id);
    this.#remember(device);
    switch (this.#filter.kind) {
      case "change":
        return true;
      case "home": {
        const now = device.at_home;
        return now !== null && now !== undefined && before?.atHome !== undefined && before.atHome !== now;
      }
      case "battery": {
        const { below } = this.#filter;
        const now = device.battery_percent;
        const was = before?.battery;
        return now !== null && now < below && !(was !== null && was !== undefined && was < below);
      }
    }
  }

  forget(deviceId: string): void {
    this.#seen.delete(deviceId);
  }

  #remember(device: FmipDevice): void {
    const previous = this.#seen.get(device.id);
    this.#seen.set(device.id, {
      // A missing fix (null) keeps the last known side, so home → no fix → home is no change.
      atHome: device.at_home === null || device.at_home === undefined ? previous?.atHome : device.at_home,
      battery: device.battery_percent,
    });
  }
}

/** `3 min ago`, `2 h ago`; `just now` under a minute. */
export function timeAgo(iso: string, now: number): string {
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (!Number.isFinite(minutes)) return "";
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** The status under a device node following one device: `57% · home · 3 min ago`. */
export function deviceStatus(device: FmipDevice, now: number): NodeStatus {
  const parts: string[] = [];
  if (device.battery_percent !== null) parts.push(`${device.battery_percent}%${device.charging ? "+" : ""}`);
  if (device.at_home === true) parts.push("home");
  else if (device.at_home === false) parts.push("away");
  const located = device.last_located ?? device.location?.date_created ?? null;
  if (located !== null) parts.push(timeAgo(located, now));
  else if (device.location === null) parts.push("no location");
  const text = parts.join(" · ") || device.name;
  // A ring while the device itself is offline (grey is kept for an unreachable bridge).
  return { fill: "green", shape: device.online ? "dot" : "ring", text };
}
