/**
 * `homebridge-icloud2mqtt`: a Homebridge platform on the icloud2mqtt engine (`icloud2mqtt/engine`).
 * The platform itself is not built yet (Homebridge would not load this package yet); this holds the
 * mappings it will use.
 */
export {
  type BatteryValues,
  batteryValues,
  CHARGING_STATE,
  DEFAULT_LOW_BATTERY_PERCENT,
  LOW_BATTERY,
} from "./battery.ts";
export { describeError } from "./log-error.ts";

/** The names Homebridge registers the platform under (`config.json` `"platform": "iCloud2MQTT"`). */
export const PLUGIN_NAME = "homebridge-icloud2mqtt";
export const PLATFORM_NAME = "iCloud2MQTT";
