import type { API, Characteristic, Logging, PlatformAccessory, Service, WithUUID } from "homebridge";
import type { EngineApi } from "icloud2mqtt/engine";
import type { PluginConfig } from "../config.ts";
import { describeError, hapStatus } from "../errors.ts";
import { cleanName } from "../names.ts";

/** What every accessory of the platform needs: Homebridge's API, the log, the options and the engine. */
export interface Kit {
  api: API;
  log: Logging;
  options: PluginConfig;
  engine: EngineApi;
  timers: Timers;
}

/** Timers of the accessories, all cleared at shutdown (nothing keeps Homebridge from exiting). */
export class Timers {
  readonly #timers = new Set<NodeJS.Timeout>();

  after(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }

  every(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setInterval(run, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }

  cancel(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

type ServiceType = WithUUID<typeof Service>;

/**
 * The accessory's service of this type and subtype, added when missing, named `name` (a cleaned
 * name, also as `ConfiguredName` so the Home app shows it for each service of the accessory).
 */
export function ensureService(
  kit: Kit,
  accessory: PlatformAccessory,
  type: ServiceType,
  name: string,
  subtype: string,
) {
  const { Characteristic: C } = kit.api.hap;
  const clean = cleanName(name);
  const service = accessory.getServiceById(type, subtype) ?? accessory.addService(type, clean, subtype);
  service.setCharacteristic(C.Name, clean);
  if (!service.testCharacteristic(C.ConfiguredName)) {
    service.addOptionalCharacteristic(C.ConfiguredName);
    service.setCharacteristic(C.ConfiguredName, clean);
  }
  return service;
}

/** Removes the accessory's service of this type and subtype if it has one (an option was turned off). */
export function dropService(accessory: PlatformAccessory, type: ServiceType, subtype: string): void {
  const service = accessory.getServiceById(type, subtype);
  if (service) accessory.removeService(service);
}

/** How long an action may take before the Home app is answered anyway (HAP gives up after 10 s). */
export const ACTION_ANSWER_MS = 8_000;
/** How long a momentary switch stays on. */
export const MOMENTARY_MS = 1_000;

/**
 * A switch that runs `action` when turned on and turns itself off after a second. A failure answers
 * the Home app with a HAP status error (so it shows one) and turns the switch off at once; an action
 * still running after 8 s is answered as done and a later failure only logged.
 */
export function momentarySwitch(kit: Kit, service: Service, what: string, action: () => Promise<unknown>): void {
  const { Characteristic: C, HapStatusError } = kit.api.hap;
  let on = false;
  let reset: NodeJS.Timeout | undefined;
  const off = () => {
    kit.timers.cancel(reset);
    on = false;
    service.updateCharacteristic(C.On, false);
  };
  const characteristic: Characteristic = service.getCharacteristic(C.On);
  characteristic.onGet(() => on);
  characteristic.onSet(async (value) => {
    if (value !== true) {
      off();
      return;
    }
    on = true;
    kit.timers.cancel(reset);
    reset = kit.timers.after(MOMENTARY_MS, off);
    kit.log.info(`${what}`);
    const running = action().then(
      () => undefined,
      (error: unknown) => error,
    );
    let deadline: NodeJS.Timeout | undefined;
    const answer = new Promise<"late">((resolve) => {
      deadline = kit.timers.after(ACTION_ANSWER_MS, () => resolve("late"));
    });
    const outcome = await Promise.race([running, answer]);
    kit.timers.cancel(deadline);
    if (outcome === "late") {
      void running.then((error) => {
        if (error !== undefined) kit.log.warn(`${what} failed: ${describeError(error)}`);
      });
      return;
    }
    if (outcome !== undefined) {
      kit.log.warn(`${what} failed: ${describeError(outcome)}`);
      off();
      throw new HapStatusError(hapStatus(outcome) as never);
    }
  });
}

/** A motion sensor that detects motion for `seconds` after each `pulse()` (a new event restarts it). */
export class Pulse {
  readonly #kit: Kit;
  readonly #service: Service;
  #timer: NodeJS.Timeout | undefined;
  #on = false;

  constructor(kit: Kit, service: Service) {
    this.#kit = kit;
    this.#service = service;
    service.getCharacteristic(kit.api.hap.Characteristic.MotionDetected).onGet(() => this.#on);
  }

  get on(): boolean {
    return this.#on;
  }

  pulse(): void {
    const { MotionDetected } = this.#kit.api.hap.Characteristic;
    this.#kit.timers.cancel(this.#timer);
    this.#on = true;
    this.#service.updateCharacteristic(MotionDetected, true);
    this.#timer = this.#kit.timers.after(this.#kit.options.pulse_seconds * 1000, () => {
      this.#on = false;
      this.#service.updateCharacteristic(MotionDetected, false);
    });
  }
}
