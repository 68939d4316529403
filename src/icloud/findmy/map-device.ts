import type { AppleDevice, AppleLocation, AppleMember } from "./apple-schema.ts";
import type { FmipDevice, FmipLocation, FmipOwner } from "./types.ts";

export interface MapContext {
  /** `userInfo.membersInfo`, by person id. */
  members: Record<string, AppleMember>;
  /** The account holder's person id (`serverContext.prsId`), when known. */
  ownPrsId: string | undefined;
}

const CHARGING: Record<string, boolean> = { Charging: true, NotCharging: false, Charged: false };

function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
}

function mapLocation(location: AppleLocation): FmipLocation {
  return {
    data_type: "location",
    latitude: location.latitude,
    longitude: location.longitude,
    altitude: location.altitude ?? 0,
    horizontal_accuracy: location.horizontalAccuracy ?? 0,
    vertical_accuracy: location.verticalAccuracy ?? 0,
    positioning_type: location.positionType ?? "Unknown",
    date_created: isoFromMs(location.timeStamp),
  };
}

function mapOwner(device: AppleDevice, context: MapContext): FmipOwner | null {
  if (device.prsId === null || device.prsId === undefined) return null;
  const id = String(device.prsId);
  if (id === context.ownPrsId) return null;
  const member = context.members[id];
  const name = [member?.firstName, member?.lastName].filter((part) => part).join(" ");
  return { id, name: name || member?.appleId || id };
}

/** Apple's battery: a fraction 0..1, with 0.0 and "Unknown" when the device did not report one. */
function mapBattery(
  device: AppleDevice,
): Pick<FmipDevice, "battery_status" | "battery_level" | "battery_percent" | "charging"> {
  const status = device.batteryStatus ?? "Unknown";
  const raw = device.batteryLevel;
  const level = typeof raw === "number" && Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0;
  const known = status !== "Unknown" && typeof raw === "number";
  return {
    battery_status: status,
    battery_level: level,
    battery_percent: known ? Math.round(level * 100) : null,
    charging: CHARGING[status] ?? null,
  };
}

/** One Apple `content` entry as our `fmip.device`. */
export function mapDevice(device: AppleDevice, context: MapContext): FmipDevice {
  const location = device.location ?? null;
  const status = device.deviceStatus === null || device.deviceStatus === undefined ? "" : String(device.deviceStatus);
  return {
    id: device.id,
    data_type: "fmip.device",
    name: device.name ?? device.deviceDisplayName ?? device.id,
    model_name: device.deviceDisplayName ?? device.modelDisplayName ?? "",
    model_identifier: device.rawDeviceModel ?? "",
    product_type: device.deviceClass ?? device.modelDisplayName ?? "",
    location: location === null ? null : mapLocation(location),
    ...mapBattery(device),
    low_power_mode: device.lowPowerMode ?? false,
    online: status === "200",
    device_status: status,
    location_capable: device.locationCapable ?? location !== null,
    location_stale: location?.isOld ?? false,
    locating: location === null ? device.isLocating === true : location.locationFinished === false,
    owner: mapOwner(device, context),
    last_located: location === null ? null : isoFromMs(location.timeStamp),
  };
}
