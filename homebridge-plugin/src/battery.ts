import type { FmipDevice } from "icloud2mqtt/engine";

/** HomeKit's `ChargingState` characteristic values. */
export const CHARGING_STATE = { NOT_CHARGING: 0, CHARGING: 1, NOT_CHARGEABLE: 2 } as const;
/** HomeKit's `StatusLowBattery` characteristic values. */
export const LOW_BATTERY = { NORMAL: 0, LOW: 1 } as const;

/** The characteristics of a HomeKit Battery service. */
export interface BatteryValues {
  /** 0–100, or null when Apple does not know it: HomeKit has no "unknown" level, so the last one stays. */
  level: number | null;
  chargingState: (typeof CHARGING_STATE)[keyof typeof CHARGING_STATE];
  lowBattery: (typeof LOW_BATTERY)[keyof typeof LOW_BATTERY];
}

/** At or below this percentage a device reports low battery, as iOS's own warning does. */
export const DEFAULT_LOW_BATTERY_PERCENT = 20;

/**
 * The Battery service values of a Find My device. A device without a battery report (`battery_percent`
 * null: a desktop Mac, or Apple does not know) is "not chargeable" with a normal battery and no level.
 * A charging state Apple does not report (`charging` null) is shown as not charging.
 */
export function batteryValues(device: FmipDevice, lowPercent = DEFAULT_LOW_BATTERY_PERCENT): BatteryValues {
  if (device.battery_percent === null)
    return { level: null, chargingState: CHARGING_STATE.NOT_CHARGEABLE, lowBattery: LOW_BATTERY.NORMAL };
  return {
    level: device.battery_percent,
    chargingState: device.charging === true ? CHARGING_STATE.CHARGING : CHARGING_STATE.NOT_CHARGING,
    lowBattery: device.battery_percent <= lowPercent ? LOW_BATTERY.LOW : LOW_BATTERY.NORMAL,
  };
}
