import type { FmipDevice } from "icloud2mqtt/engine";

/** HomeKit's `ChargingState` characteristic values. */
export const CHARGING_STATE = { NOT_CHARGING: 0, CHARGING: 1, NOT_CHARGEABLE: 2 } as const;
/** HomeKit's `StatusLowBattery` characteristic values. */
export const LOW_BATTERY = { NORMAL: 0, LOW: 1 } as const;

/** The characteristics of a HomeKit Battery service. */
export interface BatteryValues {
  level: number;
  chargingState: (typeof CHARGING_STATE)[keyof typeof CHARGING_STATE];
  lowBattery: (typeof LOW_BATTERY)[keyof typeof LOW_BATTERY];
}

/** Below this percentage (inclusive) a device reports low battery, as iOS's own warning does. */
export const DEFAULT_LOW_BATTERY_PERCENT = 20;

/**
 * The Battery service values of a Find My device, or null when Apple does not know its battery
 * (`battery_percent` null): HomeKit has no "unknown" level, so the accessory keeps its last values.
 * A charging state Apple does not report (`charging` null) is shown as not charging.
 */
export function batteryValues(device: FmipDevice, lowPercent = DEFAULT_LOW_BATTERY_PERCENT): BatteryValues | null {
  if (device.battery_percent === null) return null;
  return {
    level: device.battery_percent,
    chargingState: device.charging === true ? CHARGING_STATE.CHARGING : CHARGING_STATE.NOT_CHARGING,
    lowBattery: device.battery_percent <= lowPercent ? LOW_BATTERY.LOW : LOW_BATTERY.NORMAL,
  };
}
