import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import type { FindMyConfig } from "./config.ts";

const EARTH_RADIUS_M = 6_371_000;

/** Great-circle distance in metres (haversine). */
export function distanceMetres(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Adds `at_home` and `home_distance` to a device when the account has a home configured: `at_home`
 * is true when the fix lies within `radius` metres of home, false when it lies outside, null when
 * there is no fix; `home_distance` is the distance of the fix in whole metres. A fix whose accuracy
 * circle reaches home counts as home only if its centre is inside the radius, so a vague fix never
 * flips a device home by itself.
 */
export function withHome(device: FmipDevice, home: FindMyConfig["home"]): FmipDevice {
  if (home === null) return device;
  if (device.location === null) return { ...device, at_home: null, home_distance: null };
  const distance = distanceMetres(device.location, home);
  return { ...device, at_home: distance <= home.radius, home_distance: Math.round(distance) };
}
