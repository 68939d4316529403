import { createHash } from "node:crypto";
import { join } from "node:path";
import type { AccountConfigInput } from "icloud2mqtt/engine";
import { z } from "zod";

/**
 * The `icloud-account` config node as the editor saved it, parsed at the edge: the mode, the
 * embedded engine's account settings or the bridge to connect to. Values typed into the editor arrive
 * as strings; flows written by hand (examples, the admin API) may use numbers and booleans.
 */

const text = z
  .union([z.string(), z.number()])
  .optional()
  .transform((value) => (value === undefined ? "" : String(value).trim()));

const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"])])
    .optional()
    .transform((value) => (value === undefined ? fallback : value === true || value === "true"));

/** An optional number typed into a text box ("" = not set). */
const optionalNumber = text.pipe(
  z.string().refine((value) => value === "" || Number.isFinite(Number(value)), "must be a number"),
);

export const AccountNodeSchema = z.object({
  id: z.string(),
  name: text,
  mode: z.enum(["embedded", "bridge"]).default("embedded"),
  region: z.enum(["international", "china"]).default("international"),
  findmy: flag(true),
  findmySchedule: text,
  locate: text,
  locateSchedule: text,
  family: flag(true),
  homeLatitude: optionalNumber,
  homeLongitude: optionalNumber,
  homeRadius: optionalNumber,
  photos: flag(true),
  photosSchedule: text,
  photosLibrary: z.enum(["private", "shared", "all"]).default("all"),
  calls: flag(true),
  callsSchedule: text,
  broker: text,
  baseTopic: text,
  bridgeAccount: text,
});
export type AccountNode = z.output<typeof AccountNodeSchema>;

export const CredentialsSchema = z
  .object({ username: text, password: z.string().optional() })
  .optional()
  .transform((value) => ({ username: value?.username ?? "", password: value?.password ?? "" }));

/** What the account node runs: an embedded engine for one Apple ID, or a view of a running icloud2mqtt. */
export type AccountPlan =
  | {
      mode: "embedded";
      /** The engine's account id, derived from the Apple ID (see `accountIdFor`). */
      accountId: string;
      /** Lower-cased Apple ID: one engine per Apple ID per process. */
      appleId: string;
      account: AccountConfigInput;
      /** `<userDir>/icloud2mqtt/<accountId>`: sessions and engine state. */
      stateDir: string;
    }
  | {
      mode: "bridge";
      brokerId: string;
      baseTopic: string;
      /** The account's id on the bridge; null: the bridge's first account. */
      accountId: string | null;
    };

/**
 * The engine's account id for an Apple ID: readable (`jane-example-com`) plus a short hash of the
 * lower-cased Apple ID, so two Apple IDs never share a folder and one Apple ID always gets the same.
 */
export function accountIdFor(appleId: string): string {
  const normalised = appleId.trim().toLowerCase();
  const slug = normalised
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 24)
    .replace(/-+$/, "");
  const hash = createHash("sha256").update(normalised).digest("hex").slice(0, 6);
  return slug === "" ? `account-${hash}` : `${slug}-${hash}`;
}

function csv(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function locate(value: string): "none" | "all" | string[] {
  const lower = value.toLowerCase();
  if (lower === "" || lower === "none") return "none";
  if (lower === "all") return "all";
  return csv(value);
}

function home(node: AccountNode): { latitude: number; longitude: number; radius?: number } | null {
  if (node.homeLatitude === "" || node.homeLongitude === "") return null;
  return {
    latitude: Number(node.homeLatitude),
    longitude: Number(node.homeLongitude),
    ...(node.homeRadius === "" ? {} : { radius: Number(node.homeRadius) }),
  };
}

/** Only what the user typed: empty boxes keep the engine's defaults. */
function schedule(value: string): { schedule?: string } {
  return value === "" ? {} : { schedule: value };
}

export interface PlanContext {
  userDir: string;
  /** `icloudAccountEndpoint` from settings.js: a base URL replacing Apple's hosts (the simulator). */
  endpoint: string | null;
}

/**
 * The plan for a parsed node. Throws a readable Error for what the engine cannot check itself (no
 * Apple ID, no broker); the engine validates everything else (schedules, home) with its own schema.
 */
export function planAccount(
  node: AccountNode,
  credentials: z.output<typeof CredentialsSchema>,
  context: PlanContext,
): AccountPlan {
  if (node.mode === "bridge") {
    if (node.broker === "") throw new Error("bridge mode needs an MQTT broker");
    return {
      mode: "bridge",
      brokerId: node.broker,
      baseTopic: node.baseTopic === "" ? "icloud2mqtt" : node.baseTopic,
      accountId: node.bridgeAccount === "" ? null : node.bridgeAccount,
    };
  }
  const appleId = credentials.username.trim();
  if (appleId === "") throw new Error("no Apple ID in the account's settings");
  const accountId = accountIdFor(appleId);
  const account: AccountConfigInput = {
    id: accountId,
    username: appleId,
    password: credentials.password === "" ? null : credentials.password,
    region: node.region,
    endpoint: context.endpoint,
    findmy: {
      enabled: node.findmy,
      ...schedule(node.findmySchedule),
      locate: locate(node.locate),
      ...(node.locateSchedule === "" ? {} : { locate_schedule: node.locateSchedule }),
      family: node.family,
      home: home(node),
    },
    photos: { enabled: node.photos, ...schedule(node.photosSchedule), library: node.photosLibrary },
    calls: { enabled: node.calls, ...schedule(node.callsSchedule) },
  };
  return {
    mode: "embedded",
    accountId,
    appleId: appleId.toLowerCase(),
    account,
    stateDir: join(context.userDir, "icloud2mqtt", accountId),
  };
}
