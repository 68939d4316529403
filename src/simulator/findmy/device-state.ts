import type { ScenarioDevice } from "./scenario.ts";

/** Apple gives up on a locate after this long (serverContext.maxLocatingTime). */
export const MAX_LOCATING_TIME_MS = 90_000;

export interface Fix {
  latitude: number;
  longitude: number;
  timeStamp: number;
}

export interface CommandState {
  kind: "snd" | "msg" | "lostDevice";
  createTimestamp: number;
  body: Record<string, unknown>;
}

/**
 * One simulated device: where it is (scripted route), its battery, its cached Find My fix and an
 * ongoing locate. Everything is a function of the simulator clock, so runs are deterministic.
 */
export class DeviceState {
  readonly spec: ScenarioDevice;
  /** Simulator time the world was built at; routes and charging windows are relative to it. */
  readonly epoch: number;
  fix: Fix | null;
  /** When the current locate request reached the device, or null when none is running. */
  locatingSince: number | null = null;
  /** Locate requests sent to this device (`shouldLocate` naming it or "all"; follow-up polls count). */
  woken = 0;
  lostModeEnabled = false;
  readonly commands = new Map<CommandState["kind"], CommandState>();
  #battery: number;
  #batteryAt: number;

  constructor(spec: ScenarioDevice, epoch: number) {
    this.spec = spec;
    this.epoch = epoch;
    this.#battery = spec.battery_level ?? 0;
    this.#batteryAt = epoch;
    const location = spec.location;
    if (location === null) {
      this.fix = null;
    } else {
      const at = epoch - location.age;
      const here = this.positionAt(at) ?? { latitude: location.latitude, longitude: location.longitude };
      this.fix = { ...here, timeStamp: at };
    }
  }

  get online(): boolean {
    return this.spec.online === "200";
  }

  get canLocate(): boolean {
    return this.spec.location_capable && this.spec.location_enabled;
  }

  /** Where the device physically is at `time` (route or fixed location), null when unknown. */
  positionAt(time: number): { latitude: number; longitude: number } | null {
    const route = this.spec.route;
    if (route === undefined) {
      const location = this.spec.location;
      return location === null ? null : { latitude: location.latitude, longitude: location.longitude };
    }
    const period = Math.max(1, this.spec.route_period);
    const phase = ((((time - this.epoch) % period) + period) % period) / period;
    const scaled = phase * route.length;
    const index = Math.floor(scaled);
    const from = route[index % route.length];
    const to = route[(index + 1) % route.length];
    if (from === undefined || to === undefined) return null;
    const t = scaled - index;
    return { latitude: from.lat + (to.lat - from.lat) * t, longitude: from.lon + (to.lon - from.lon) * t };
  }

  /** Starts a locate (counted even when the device cannot answer). */
  requestLocate(now: number): void {
    this.woken += 1;
    if (!this.canLocate || this.locatingSince !== null) return;
    this.locatingSince = now;
  }

  /**
   * Finishes a running locate whose time has come. The fresh fix (`locate_delay` after the request)
   * only arrives when the answer is for a request that `asked` for this device's locate; answers to
   * plain refreshes keep the cached fix (timlaing/pyicloud#360). A locate nobody asked about again
   * within maxLocatingTime, or of a silent device, ends without a new fix.
   */
  settle(now: number, asked: boolean): void {
    const since = this.locatingSince;
    if (since === null) return;
    const doneAt = since + this.spec.locate_delay;
    if (asked && this.online && now >= doneAt) {
      const here = this.positionAt(doneAt);
      if (here !== null) this.fix = { ...here, timeStamp: doneAt };
      this.locatingSince = null;
    } else if (now >= since + MAX_LOCATING_TIME_MS) {
      this.locatingSince = null;
    }
  }

  /** Battery level 0..1 at `now` (drains, charges inside the charging window). */
  batteryAt(now: number): number {
    if (this.spec.battery_level === null) return 0;
    while (this.#batteryAt < now) {
      const { charging, until } = this.#chargingWindow(this.#batteryAt);
      const end = Math.min(now, until);
      const hours = (end - this.#batteryAt) / 3_600_000;
      const rate = charging ? (this.spec.charging_pattern?.rate_per_hour ?? 0) : -this.spec.battery_drain_per_hour;
      this.#battery = Math.min(1, Math.max(0, this.#battery + rate * hours));
      this.#batteryAt = end;
    }
    return this.#battery;
  }

  /** Apple's batteryStatus at `now`. */
  batteryStatusAt(now: number): "Charging" | "NotCharging" | "Charged" | "Unknown" {
    if (this.spec.battery_level === null) return "Unknown";
    const level = this.batteryAt(now);
    if (!this.#chargingWindow(now).charging) return "NotCharging";
    return level >= 1 ? "Charged" : "Charging";
  }

  #chargingWindow(time: number): { charging: boolean; until: number } {
    const pattern = this.spec.charging_pattern;
    if (pattern === undefined || pattern.duration <= 0) return { charging: false, until: Number.POSITIVE_INFINITY };
    const period = Math.max(1, pattern.period);
    const phase = (((time - this.epoch - pattern.start) % period) + period) % period;
    if (phase < pattern.duration) return { charging: true, until: time + (pattern.duration - phase) };
    return { charging: false, until: time + (period - phase) };
  }
}
