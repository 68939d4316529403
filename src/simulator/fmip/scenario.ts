import { createHash } from "node:crypto";
import { z } from "zod";
import { msOrDuration as durationSchema } from "../duration.ts";

/**
 * The `findmy` scenario section of one account (snake_case). Everything has a default, and an empty
 * section (or none) gives the default household of `defaultFindMyScenario`.
 */

const pointSchema = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

const locationSchema = z.strictObject({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  altitude: z.number().default(0),
  horizontal_accuracy: z.number().nonnegative().default(5),
  vertical_accuracy: z.number().nonnegative().default(0),
  position_type: z.string().default("GPS"),
  /** How old the cached fix is when the simulator starts. */
  age: durationSchema.default(120_000),
});

/** A daily (or other period) charging window, relative to the simulator's start. */
const chargingSchema = z.strictObject({
  period: durationSchema.default(86_400_000),
  /** Offset of the window's start inside the period. */
  start: durationSchema.default(0),
  duration: durationSchema.default(3_600_000),
  rate_per_hour: z.number().positive().default(0.5),
});

const DEVICE_STATUS = ["200", "201", "203", "204"] as const;

/** `online`: true/false, or Apple's deviceStatus code (200 online, 201 offline, 203 pending, 204 unregistered). */
const onlineSchema = z
  .union([z.boolean(), z.enum(DEVICE_STATUS), z.literal([200, 201, 203, 204])])
  .transform((value): (typeof DEVICE_STATUS)[number] => {
    if (value === true) return "200";
    if (value === false) return "201";
    return String(value) as (typeof DEVICE_STATUS)[number];
  });

const deviceSchema = z.strictObject({
  /** Apple's opaque device id; derived from the name when left out. */
  id: z.string().min(1).optional(),
  name: z.string().min(1),
  device_display_name: z.string().min(1),
  raw_device_model: z.string().min(1),
  device_class: z.string().min(1),
  model_display_name: z.string().min(1),
  device_model: z.string().default(""),
  device_color: z.string().nullable().default(null),
  /** null: the account holder; otherwise the `prs_id` of a family member. */
  owner: z.string().nullable().default(null),
  /** 0..1; null for devices without a battery report (Apple then sends 0.0 and "Unknown"). */
  battery_level: z.number().min(0).max(1).nullable().default(1),
  battery_drain_per_hour: z.number().nonnegative().default(0.02),
  charging_pattern: chargingSchema.optional(),
  low_power_mode: z.boolean().default(false),
  online: onlineSchema.default("200"),
  location: locationSchema.nullable().default(null),
  /** Points the device moves along (a closed loop) once per `route_period`. */
  route: z.array(pointSchema).min(1).optional(),
  route_period: durationSchema.default(1_800_000),
  /** Time an online device needs to answer a locate request. */
  locate_delay: durationSchema.default(10_000),
  location_capable: z.boolean().default(true),
  location_enabled: z.boolean().default(true),
  lost_mode_capable: z.boolean().default(true),
  passcode_length: z.number().int().nonnegative().default(6),
});

const familyMemberSchema = z.strictObject({
  prs_id: z.string().regex(/^\d+$/, "prs_id is a numeric person id"),
  first_name: z.string(),
  last_name: z.string(),
  apple_id: z.string(),
  /** How many answers of a Find My session report the member as LOADING (devices left out). */
  loading_refreshes: z.number().int().nonnegative().default(0),
});

export const findMyScenarioSchema = z.strictObject({
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  devices: z.array(deviceSchema).optional(),
  family: z.array(familyMemberSchema).optional(),
  /** Age after which a cached fix is reported with `isOld: true`. */
  stale_after: durationSchema.default(900_000),
});

export type FindMyScenarioInput = z.input<typeof findMyScenarioSchema>;
export type ScenarioDevice = z.output<typeof deviceSchema> & { id: string };
export type ScenarioFamilyMember = z.output<typeof familyMemberSchema>;

export interface FindMyScenario {
  firstName: string;
  lastName: string;
  devices: ScenarioDevice[];
  family: ScenarioFamilyMember[];
  staleAfterMs: number;
}

/** Parses an account's raw `findmy` section (undefined or `{}` gives the default household). */
export function parseFindMyScenario(raw: unknown, account: { dsid: string; appleId: string }): FindMyScenario {
  const section = findMyScenarioSchema.parse(raw ?? {});
  const [defaultFirst, defaultLast] = namesFromAppleId(account.appleId);
  const firstName = section.first_name ?? defaultFirst;
  const useDefaults = section.devices === undefined && section.family === undefined;
  const defaults = useDefaults ? findMyScenarioSchema.parse(defaultFindMyScenario(firstName)) : undefined;
  const devices = (defaults?.devices ?? section.devices ?? []).map((device) => ({
    ...device,
    id: device.id ?? deviceIdFor(account.dsid, device.name),
  }));
  const family = defaults?.family ?? section.family ?? [];
  const ids = new Set<string>();
  for (const device of devices) {
    if (ids.has(device.id)) throw new Error(`findmy: duplicate device id ${device.id}`);
    ids.add(device.id);
    if (device.owner !== null && !family.some((member) => member.prs_id === device.owner)) {
      throw new Error(`findmy: device ${device.name} names unknown family member ${device.owner}`);
    }
  }
  return {
    firstName,
    lastName: section.last_name ?? defaultLast,
    devices,
    family,
    staleAfterMs: section.stale_after,
  };
}

/** Apple device ids are opaque base64 strings; derive a stable one. */
function deviceIdFor(dsid: string, name: string): string {
  return createHash("sha256").update(`${dsid}\n${name}`).digest("base64").slice(0, 40);
}

function namesFromAppleId(appleId: string): [string, string] {
  const local = appleId.split("@")[0] ?? "user";
  const [first = "User", last = "Example"] = local.split(/[._-]/).filter(Boolean);
  const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  return [cap(first), cap(last)];
}

const HOME = { lat: 51.5007, lon: -0.1246 };
const OFFICE = { lat: 51.5155, lon: -0.0922 };
const PARK = { lat: 51.5073, lon: -0.1657 };

/** The household used when the scenario's `findmy` section is empty. */
export function defaultFindMyScenario(firstName: string): FindMyScenarioInput {
  const home = { latitude: HOME.lat, longitude: HOME.lon, horizontal_accuracy: 12, position_type: "Wifi" };
  const commute = [HOME, OFFICE, PARK];
  return {
    devices: [
      {
        name: `${firstName}'s iPhone`,
        device_display_name: "iPhone 15 Pro",
        raw_device_model: "iPhone16,1",
        device_class: "iPhone",
        model_display_name: "iPhone",
        device_model: "iphone15pro-1-1-0",
        battery_level: 0.82,
        battery_drain_per_hour: 0.04,
        charging_pattern: { period: "24h", start: "22h", duration: "2h", rate_per_hour: 0.6 },
        location: { ...home, horizontal_accuracy: 4.7, position_type: "GPS", age: "2m" },
        route: commute,
        route_period: "30m",
        locate_delay: "10s",
      },
      {
        name: `${firstName}'s iPad`,
        device_display_name: "iPad Air (5th generation)",
        raw_device_model: "iPad13,16",
        device_class: "iPad",
        model_display_name: "iPad",
        battery_level: 0.55,
        battery_drain_per_hour: 0.01,
        location: { ...home, age: "20m" },
        locate_delay: "8s",
      },
      {
        name: `${firstName}'s MacBook Pro`,
        device_display_name: 'MacBook Pro 14"',
        raw_device_model: "Mac15,3",
        device_class: "MacBookPro",
        model_display_name: "MacBook Pro",
        battery_level: 0.91,
        charging_pattern: { period: "24h", start: "0h", duration: "4h", rate_per_hour: 0.8 },
        location: { ...home, age: "5m" },
        passcode_length: 0,
      },
      {
        name: `${firstName}'s Apple Watch`,
        device_display_name: "Apple Watch Series 9",
        raw_device_model: "Watch7,3",
        device_class: "Watch",
        model_display_name: "Apple Watch",
        battery_level: 0.64,
        battery_drain_per_hour: 0.05,
        location: { ...home, horizontal_accuracy: 30, age: "2m" },
        route: commute,
        route_period: "30m",
        locate_delay: "15s",
        lost_mode_capable: false,
      },
      {
        name: `${firstName}'s AirPods Pro`,
        device_display_name: "AirPods Pro (2nd generation)",
        raw_device_model: "AirPodsPro1,2",
        device_class: "Accessory",
        model_display_name: "Accessory",
        battery_level: null,
        location: null,
        location_capable: false,
        lost_mode_capable: false,
        passcode_length: 0,
      },
      {
        name: `${firstName}'s old iPhone`,
        device_display_name: "iPhone 8",
        raw_device_model: "iPhone10,1",
        device_class: "iPhone",
        model_display_name: "iPhone",
        battery_level: 0.12,
        battery_drain_per_hour: 0,
        online: 201,
        location: { latitude: 51.4613, longitude: -0.3037, horizontal_accuracy: 65, position_type: "Wifi", age: "3d" },
      },
      {
        name: "John's iPhone",
        device_display_name: "iPhone 14",
        raw_device_model: "iPhone14,7",
        device_class: "iPhone",
        model_display_name: "iPhone",
        owner: "20000000002",
        battery_level: 0.47,
        battery_drain_per_hour: 0.03,
        location: { latitude: OFFICE.lat, longitude: OFFICE.lon, horizontal_accuracy: 8, age: "4m" },
        route: [OFFICE, PARK],
        route_period: "1h",
      },
    ],
    family: [
      {
        prs_id: "20000000002",
        first_name: "John",
        last_name: "Appleseed",
        apple_id: "john.appleseed@example.com",
        loading_refreshes: 1,
      },
    ],
  };
}
