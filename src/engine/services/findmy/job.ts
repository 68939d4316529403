import { EngineError } from "../../../errors.ts";
import { FindMyService } from "../../../icloud/findmy/find-my-service.ts";
import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import type { ServiceTransport } from "../../../icloud/service-transport.ts";
import type { Logger } from "../../../logger.ts";
import type { FindMyConfig } from "./config.ts";
import { FriendlyNames } from "./friendly-names.ts";
import { withHome } from "./home.ts";
import type { FindMyState } from "./state.ts";

export interface DeviceChanges {
  updated: FmipDevice[];
  /** Devices gone from the account, as last known. */
  removed: FmipDevice[];
}

/**
 * Find My for one account. `refresh()` never wakes a device; `locate()` only wakes the devices
 * the user enabled (or the one asked for). Devices are reported only when their JSON changed,
 * and removed only after missing from two successful refreshes in a row (family members'
 * devices can be briefly absent while Apple is still loading them).
 */
export class FindMyJob {
  readonly #service: FindMyService;
  readonly #config: FindMyConfig;
  readonly #names: FriendlyNames;
  readonly #missing = new Map<string, number>();
  #queue: Promise<void> = Promise.resolve();

  /** `signal`: the engine stopping; waits between locate polls end with it. */
  constructor(transport: ServiceTransport, config: FindMyConfig, log: Logger, signal: AbortSignal) {
    this.#config = config;
    this.#names = new FriendlyNames(config.friendly_names);
    this.#service = new FindMyService(transport, {
      locate: config.locate,
      family: config.family,
      logger: log,
      sleep: (ms: number) => sleepUnless(ms, signal),
    });
  }

  get service(): FindMyService {
    return this.#service;
  }

  /**
   * Brings the stored devices up to the configuration at start (it may have changed since they were
   * stored): home/away from the current home (none when it was removed) and friendly names.
   */
  prepare(state: FindMyState): void {
    for (const [id, device] of Object.entries(state.devices)) {
      const { at_home: _at, home_distance: _distance, ...plain } = device;
      state.devices[id] = withHome(plain, this.#config.home);
    }
    this.#names.assignAll(state.devices);
  }

  refresh(state: FindMyState): Promise<DeviceChanges> {
    return this.#exclusive(async () => this.#diff(state, await this.#service.devices(), true));
  }

  /** Locates `device` (id or name), or the configured devices; other devices are left alone. */
  locate(state: FindMyState, device?: string): Promise<DeviceChanges> {
    const targets = device === undefined ? undefined : [this.resolve(state, device)];
    if (targets === undefined && this.#config.locate === "none") return Promise.resolve({ updated: [], removed: [] });
    return this.#exclusive(async () => this.#diff(state, await this.#service.locate(targets), false));
  }

  /**
   * A device id from an id, a (case-insensitive) name or a friendly name known from the last refresh;
   * NOT_FOUND otherwise.
   */
  resolve(state: FindMyState, device: string): string {
    if (Object.hasOwn(state.devices, device)) return device;
    const lower = device.toLowerCase();
    const names: string[] = [];
    for (const [id, { name }] of Object.entries(state.devices)) {
      if (name.toLowerCase() === lower) return id;
      names.push(name);
    }
    for (const [id, { slug }] of Object.entries(state.devices)) if (slug === device) return id;
    throw new EngineError(
      "NOT_FOUND",
      `unknown device ${JSON.stringify(device)}; known: ${names.join(", ") || "none yet"}`,
    );
  }

  /** One Find My request sequence at a time, so a command and a scheduled locate never wake a device twice. */
  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  #diff(state: FindMyState, devices: FmipDevice[], complete: boolean): DeviceChanges {
    const updated: FmipDevice[] = [];
    const seen = new Set<string>();
    for (const raw of devices) {
      const device = { ...withHome(raw, this.#config.home), slug: this.#names.assign(state.devices, raw) };
      seen.add(device.id);
      this.#missing.delete(device.id);
      const previous = state.devices[device.id];
      if (previous === undefined || JSON.stringify(previous) !== JSON.stringify(device)) {
        state.devices[device.id] = device;
        updated.push(device);
      }
    }
    const removed: FmipDevice[] = [];
    if (complete) {
      for (const [id, device] of Object.entries(state.devices)) {
        if (seen.has(id)) continue;
        const misses = (this.#missing.get(id) ?? 0) + 1;
        this.#missing.set(id, misses);
        if (misses >= 2) {
          delete state.devices[id];
          this.#missing.delete(id);
          removed.push(device);
        }
      }
    }
    return { updated, removed };
  }
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts. */
export function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
