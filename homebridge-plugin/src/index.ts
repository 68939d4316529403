/**
 * `homebridge-icloud2mqtt`: a Homebridge dynamic platform on the icloud2mqtt engine
 * (`icloud2mqtt/engine`, or `icloud2mqtt/remote` against a running icloud2mqtt). Homebridge loads the
 * default export; the named exports are the mappings the platform uses.
 */
import { PLATFORM_NAME } from "./names.ts";
import { ICloudPlatform } from "./platform.ts";

export {
  type BatteryValues,
  batteryValues,
  CHARGING_STATE,
  DEFAULT_LOW_BATTERY_PERCENT,
  LOW_BATTERY,
} from "./battery.ts";
export { describeError, HAP_STATUS, hapStatus, uiError } from "./errors.ts";
export { cleanName, HAP_NAME_PATTERN, PLATFORM_NAME, PLUGIN_NAME } from "./names.ts";

/** The part of Homebridge's API the initializer uses (typed here so the package's types need no Homebridge). */
export interface PlatformRegistry {
  registerPlatform(platformName: string, platform: unknown): void;
}

/** Homebridge's entry point: registers the `iCloud2MQTT` platform. */
export default function initialize(api: PlatformRegistry): void {
  api.registerPlatform(PLATFORM_NAME, ICloudPlatform);
}
