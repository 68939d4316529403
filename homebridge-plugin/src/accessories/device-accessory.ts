import type { PlatformAccessory, Service } from "homebridge";
import type { FmipDevice } from "icloud2mqtt/engine";
import { batteryValues, LOW_BATTERY } from "../battery.ts";
import { cleanName } from "../names.ts";
import { dropService, ensureService, type Kit, momentarySwitch } from "./kit.ts";

/** What a device accessory keeps in Homebridge's accessory cache (identifiers only, never secrets). */
export interface DeviceContext {
  kind: "device";
  account: string;
  /** Apple's device id it stands for now (it may differ from the one its UUID was made from). */
  deviceId: string;
  name: string;
  model: string;
}

export function isDeviceContext(context: unknown): context is DeviceContext {
  const c = context as Partial<DeviceContext> | null;
  return (
    typeof c === "object" &&
    c !== null &&
    c.kind === "device" &&
    typeof c.account === "string" &&
    typeof c.deviceId === "string" &&
    typeof c.name === "string" &&
    typeof c.model === "string"
  );
}

/** The stable seed of a device accessory's UUID (the id Apple gave the device when it was first seen). */
export function deviceSeed(account: string, deviceId: string): string {
  return `icloud2mqtt:${account}:device:${deviceId}`;
}

export function deviceContext(account: string, device: FmipDevice): DeviceContext {
  return { kind: "device", account, deviceId: device.id, name: device.name, model: device.model_name };
}

/**
 * One Apple device: an occupancy sensor "Home" (occupied while at home; active while the device is
 * online with a fresh location), a Battery service, a momentary "Play sound" switch, and optionally
 * "Locate" and "Lost mode" switches. Characteristic reads answer from the last values (never iCloud).
 */
export class DeviceAccessory {
  readonly accessory: PlatformAccessory;
  readonly #kit: Kit;
  readonly #home: Service;
  readonly #battery: Service;
  #occupied = 0;
  #active = false;
  #level = 0;
  #charging: number;
  #low: number = LOW_BATTERY.NORMAL;

  constructor(kit: Kit, accessory: PlatformAccessory) {
    this.#kit = kit;
    this.accessory = accessory;
    const { Service: S, Characteristic: C } = kit.api.hap;
    this.#charging = C.ChargingState.NOT_CHARGEABLE;
    const ctx = this.context;
    accessory
      .getService(S.AccessoryInformation)
      ?.setCharacteristic(C.Manufacturer, "Apple")
      .setCharacteristic(C.Model, cleanName(ctx.model, "Apple device"))
      .setCharacteristic(C.SerialNumber, ctx.deviceId.slice(0, 64));

    this.#home = ensureService(kit, accessory, S.OccupancySensor, "Home", "home");
    this.#home.getCharacteristic(C.OccupancyDetected).onGet(() => this.#occupied);
    this.#home.getCharacteristic(C.StatusActive).onGet(() => this.#active);

    this.#battery = ensureService(kit, accessory, S.Battery, "Battery", "battery");
    this.#battery.getCharacteristic(C.BatteryLevel).onGet(() => this.#level);
    this.#battery.getCharacteristic(C.ChargingState).onGet(() => this.#charging);
    this.#battery.getCharacteristic(C.StatusLowBattery).onGet(() => this.#low);

    const play = ensureService(kit, accessory, S.Switch, "Play sound", "play-sound");
    momentarySwitch(kit, play, `${ctx.name}: play sound`, () =>
      kit.engine.execute("play_sound", { account: this.context.account, device: this.context.deviceId }),
    );
    if (kit.options.locate_switch) {
      const locate = ensureService(kit, accessory, S.Switch, "Locate", "locate");
      momentarySwitch(kit, locate, `${ctx.name}: locate`, () =>
        kit.engine.execute("locate", { account: this.context.account, device: this.context.deviceId }),
      );
    } else dropService(accessory, S.Switch, "locate");
    if (kit.options.lost_mode_switch) {
      const lost = ensureService(kit, accessory, S.Switch, "Lost mode", "lost-mode");
      momentarySwitch(kit, lost, `${ctx.name}: lost mode`, () =>
        kit.engine.execute("lost_mode", { account: this.context.account, device: this.context.deviceId }),
      );
    } else dropService(accessory, S.Switch, "lost-mode");
  }

  get context(): DeviceContext {
    return this.accessory.context as DeviceContext;
  }

  /** Shows a device's new data. */
  update(device: FmipDevice): void {
    const { Characteristic: C } = this.#kit.api.hap;
    this.#occupied =
      device.at_home === true ? C.OccupancyDetected.OCCUPANCY_DETECTED : C.OccupancyDetected.OCCUPANCY_NOT_DETECTED;
    this.#active = device.online && !device.location_stale && device.location !== null;
    this.#home.updateCharacteristic(C.OccupancyDetected, this.#occupied);
    this.#home.updateCharacteristic(C.StatusActive, this.#active);
    const battery = batteryValues(device, this.#kit.options.low_battery_percent);
    if (battery.level !== null) {
      this.#level = battery.level;
      this.#battery.updateCharacteristic(C.BatteryLevel, this.#level);
    }
    this.#charging = battery.chargingState;
    this.#low = battery.lowBattery;
    this.#battery.updateCharacteristic(C.ChargingState, this.#charging);
    this.#battery.updateCharacteristic(C.StatusLowBattery, this.#low);
  }
}
