import type { PlatformAccessory, Service } from "homebridge";
import type { AccountState, AccountSummary, FmipDevice } from "icloud2mqtt/engine";
import { dropService, ensureService, type Kit, momentarySwitch, Pulse } from "./kit.ts";

/** What an account accessory keeps in Homebridge's accessory cache. */
export interface AccountContext {
  kind: "account";
  account: string;
}

export function isAccountContext(context: unknown): context is AccountContext {
  const c = context as Partial<AccountContext> | null;
  return typeof c === "object" && c !== null && c.kind === "account" && typeof c.account === "string";
}

export function accountSeed(account: string): string {
  return `icloud2mqtt:${account}:account`;
}

/** Trust that ends within this time is reported as a fault of the sign-in sensor. */
export const TRUST_WARNING_MS = 7 * 24 * 3600 * 1000;

/** The sign-in sensor is open while the account needs the user: a code, a choice, or a failed session. */
export function signInNeedsUser(state: AccountState): boolean {
  return state.state === "blocked" || state.session.state === "failed" || state.session.state === "expired";
}

/** True when Apple's trust of this sign-in ends within 7 days (a new code will be needed). */
export function trustEndsSoon(state: AccountState, now = Date.now()): boolean {
  const expires = state.session.trust_expires_at;
  if (expires === null) return false;
  const at = Date.parse(expires);
  return Number.isFinite(at) && at - now < TRUST_WARNING_MS;
}

/**
 * One iCloud account: "Anyone home" (any of its devices at home), the "iCloud sign-in" contact
 * sensor (open while a code is needed or the session failed; fault when trust ends within 7 days:
 * HomeKit has no text input, so this is how the Home app tells the user to sign in in the plugin's
 * settings), "New photo" and "Missed call" motion sensors that pulse, and a momentary "Sync now" switch.
 */
export class AccountAccessory {
  readonly accessory: PlatformAccessory;
  readonly #kit: Kit;
  readonly #anyone: Service;
  readonly #signIn: Service;
  readonly photo: Pulse | null;
  readonly call: Pulse | null;
  #occupied = 0;
  #contact = 0;
  #state: AccountState | null = null;

  constructor(kit: Kit, accessory: PlatformAccessory, summary: AccountSummary) {
    this.#kit = kit;
    this.accessory = accessory;
    const { Service: S, Characteristic: C } = kit.api.hap;
    const account = summary.id;
    accessory
      .getService(S.AccessoryInformation)
      ?.setCharacteristic(C.Manufacturer, "icloud2mqtt")
      .setCharacteristic(C.Model, "iCloud account")
      .setCharacteristic(C.SerialNumber, account);

    this.#anyone = ensureService(kit, accessory, S.OccupancySensor, "Anyone home", "anyone-home");
    this.#anyone.getCharacteristic(C.OccupancyDetected).onGet(() => this.#occupied);

    this.#signIn = ensureService(kit, accessory, S.ContactSensor, "iCloud sign-in", "sign-in");
    this.#signIn.getCharacteristic(C.ContactSensorState).onGet(() => this.#contact);
    this.#signIn.getCharacteristic(C.StatusFault).onGet(() => this.#fault());

    if (summary.services.photos) {
      this.photo = new Pulse(kit, ensureService(kit, accessory, S.MotionSensor, "New photo", "new-photo"));
    } else {
      this.photo = null;
      dropService(accessory, S.MotionSensor, "new-photo");
    }
    if (summary.services.calls) {
      this.call = new Pulse(kit, ensureService(kit, accessory, S.MotionSensor, "Missed call", "missed-call"));
    } else {
      this.call = null;
      dropService(accessory, S.MotionSensor, "missed-call");
    }

    const sync = ensureService(kit, accessory, S.Switch, "Sync now", "sync");
    momentarySwitch(kit, sync, `${account}: sync now`, () => kit.engine.execute("sync", { account }));
  }

  get account(): string {
    return (this.accessory.context as AccountContext).account;
  }

  #fault(): number {
    const { StatusFault } = this.#kit.api.hap.Characteristic;
    return this.#state !== null && trustEndsSoon(this.#state) ? StatusFault.GENERAL_FAULT : StatusFault.NO_FAULT;
  }

  /** Shows the account's state (also called hourly, so the trust warning comes on time). */
  updateState(state: AccountState): void {
    const { Characteristic: C } = this.#kit.api.hap;
    this.#state = state;
    this.#contact = signInNeedsUser(state)
      ? C.ContactSensorState.CONTACT_NOT_DETECTED
      : C.ContactSensorState.CONTACT_DETECTED;
    this.#signIn.updateCharacteristic(C.ContactSensorState, this.#contact);
    this.#signIn.updateCharacteristic(C.StatusFault, this.#fault());
  }

  refresh(): void {
    if (this.#state !== null) this.updateState(this.#state);
  }

  /** Shows whether any of the account's devices is at home. */
  updateDevices(devices: readonly FmipDevice[]): void {
    const { OccupancyDetected } = this.#kit.api.hap.Characteristic;
    this.#occupied = devices.some((d) => d.at_home === true)
      ? OccupancyDetected.OCCUPANCY_DETECTED
      : OccupancyDetected.OCCUPANCY_NOT_DETECTED;
    this.#anyone.updateCharacteristic(OccupancyDetected, this.#occupied);
  }
}
