import { z } from "zod";

/**
 * Our `fmip.device` JSON: ricloud's Find My data type (snake_case, `id`, `data_type`, ISO 8601 dates)
 * plus what a home needs.
 *
 * ricloud attributes:
 * - `model_name` = Apple's `deviceDisplayName` ("iPhone 15 Pro"), `model_identifier` = `rawDeviceModel`
 *   ("iPhone16,1"), `product_type` = `deviceClass` ("iPhone", "iPad", "MacBookPro", "Watch", "Accessory").
 * - `battery_level` keeps ricloud's (and Apple's) meaning: a fraction 0..1 as Apple reports it, `0.0` when
 *   unknown. Because 0.0 is ambiguous, `battery_percent` is the integer percentage 0..100, or null when
 *   Apple does not know the level (`batteryStatus` "Unknown").
 * - `location.date_created` is the time of the fix (Apple's `timeStamp`), `positioning_type` is Apple's
 *   `positionType` ("GPS", "Wifi", ...).
 *
 * Additions:
 * - `online`: `device_status` is "200"; `device_status` is Apple's raw code (200 online, 201 offline,
 *   203 pending, 204 unregistered).
 * - `charging`: true while charging, false when not (also when full: "Charged"), null when unknown.
 * - `location_stale`: Apple flags the cached fix as old (`isOld`); `locating`: a locate is running and
 *   this fix is not its answer yet (`locationFinished` false).
 * - `owner`: the Family Sharing member the device belongs to, null for the account holder's devices.
 * - `last_located`: time of the last fix (same as `location.date_created`), null without a fix.
 *
 * Set by the bridge, not iCloud:
 * - `at_home` / `home_distance` when the account has `findmy.home`: inside the home radius, and the distance
 *   of the fix from home in metres (both null without a fix);
 * - `slug`: the device's friendly name (`findmy.friendly_names`, else from its name, kept once assigned),
 *   its MQTT topic segment and Home Assistant object id.
 */

export const FmipLocationSchema = z.object({
  data_type: z.literal("location"),
  latitude: z.number(),
  longitude: z.number(),
  altitude: z.number(),
  horizontal_accuracy: z.number(),
  vertical_accuracy: z.number(),
  positioning_type: z.string(),
  date_created: z.iso.datetime(),
});

export const FmipOwnerSchema = z.object({ id: z.string(), name: z.string() });

export const FmipDeviceSchema = z.object({
  id: z.string(),
  data_type: z.literal("fmip.device"),
  name: z.string(),
  model_name: z.string(),
  model_identifier: z.string(),
  product_type: z.string(),
  location: FmipLocationSchema.nullable(),
  battery_status: z.string(),
  battery_level: z.number().min(0).max(1),
  battery_percent: z.number().int().min(0).max(100).nullable(),
  charging: z.boolean().nullable(),
  low_power_mode: z.boolean(),
  online: z.boolean(),
  device_status: z.string(),
  location_capable: z.boolean(),
  location_stale: z.boolean(),
  locating: z.boolean(),
  owner: FmipOwnerSchema.nullable(),
  last_located: z.iso.datetime().nullable(),
  /** Set by the bridge, not iCloud, when the account has `findmy.home`: inside the home radius (null: no fix). */
  at_home: z.boolean().nullable().optional(),
  /** Set by the bridge with `at_home`: metres from home, rounded (null: no fix). */
  home_distance: z.number().int().nonnegative().nullable().optional(),
  /** Set by the bridge: the friendly name (topic segment, entity object id). */
  slug: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/)
    .optional(),
});

export type FmipLocation = z.infer<typeof FmipLocationSchema>;
export type FmipOwner = z.infer<typeof FmipOwnerSchema>;
export type FmipDevice = z.infer<typeof FmipDeviceSchema>;
