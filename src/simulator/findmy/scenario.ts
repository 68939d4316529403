import { createHash } from "node:crypto";
import { z } from "zod";
import { msOrDuration as durationSchema } from "../duration.ts";
import { defaultFindMyScenario } from "./default-household.ts";

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
