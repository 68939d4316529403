import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { secondsOrDuration } from "./duration.ts";
import { FaultSpecSchema } from "./fault-spec.ts";

const PhoneLayout = z.enum(["legacy", "bridge2026"]);

const TrustedPhoneNumber = z.object({
  id: z.number().int(),
  number: z.string().min(1),
  push_mode: z.enum(["sms", "voice"]).default("sms"),
});

const Device2sv = z.object({
  device_id: z.string().min(1),
  device_type: z.string().min(1),
  device_name: z.string().optional(),
  phone_number: z.string().optional(),
  area_code: z.string().optional(),
});

const Mfa = z.object({
  kind: z.enum(["none", "hsa2", "2sv"]).default("hsa2"),
  /** Fixed code every channel shows; random per send when omitted. Always a string (leading zeros). */
  code: z.union([z.string().regex(/^\d{4,8}$/), z.number().int().nonnegative()]).optional(),
  trusted_devices: z.array(z.object({ name: z.string(), model: z.string().default("iPhone") })).default([]),
  trusted_phone_numbers: z.array(TrustedPhoneNumber).default([]),
  devices_2sv: z.array(Device2sv).default([]),
  /**
   * HSA2 code limits per sign-in (auth session), the simulator's choice (Apple's numbers are not
   * published): after this many wrong codes, code entry is locked (`securityCodeLocked`)...
   */
  max_wrong_codes: z.number().int().min(1).default(5),
  /** ...and after this many codes sent (device trigger/resend, SMS, voice), more are refused (`tooManyCodesSent`). */
  max_code_sends: z.number().int().min(1).default(10),
});

/**
 * Credential lifetimes (seconds or "30d"/"15m"/"1h"):
 * - trust_token: X-Apple-TwoSV-Trust-Token and the X-APPLE-WEBAUTH-HSA-TRUST cookie; skips 2FA at signin/complete.
 * - web_session: X-APPLE-DS-WEB-SESSION-TOKEN / X-APPLE-WEBAUTH-USER, fixed from the first accountLogin.
 * - validate_token: each X-APPLE-WEBAUTH-TOKEN; validate and service calls are refused (421) after it.
 * - session_token: an X-Apple-Session-Token opens a web session with accountLogin within this time;
 *   once it has opened one, accountLogin with it keeps working while that web session lives.
 */
const Lifetimes = z.object({
  // zod 4 defaults are output values, so these are milliseconds.
  trust_token: secondsOrDuration.default(30 * 86_400_000),
  web_session: secondsOrDuration.default(30 * 86_400_000),
  validate_token: secondsOrDuration.default(3_600_000),
  session_token: secondsOrDuration.default(600_000),
});

const AccountSchema = z
  .object({
    apple_id: z.string().min(1),
    password: z.string(),
    srp: z
      .object({
        protocol: z.enum(["s2k", "s2k_fo"]).default("s2k"),
        iterations: z.number().int().min(1).default(20064),
      })
      .default({ protocol: "s2k", iterations: 20064 }),
    dsid: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).optional(),
    country: z.string().min(2).default("USA"),
    first_name: z.string().optional(),
    last_name: z.string().default("Appleseed"),
    phone_list_layout: PhoneLayout.optional(),
    mfa: Mfa.default({
      kind: "hsa2",
      trusted_devices: [],
      trusted_phone_numbers: [],
      devices_2sv: [],
      max_wrong_codes: 5,
      max_code_sends: 10,
    }),
    locked: z.boolean().default(false),
    repair_needed: z.boolean().default(false),
    web_access_disabled: z.boolean().default(false),
    security_key: z.boolean().default(false),
    lifetimes: Lifetimes.default({
      trust_token: 30 * 86_400_000,
      web_session: 30 * 86_400_000,
      validate_token: 3_600_000,
      session_token: 600_000,
    }),
    /**
     * Overrides the scenario's `strict` for this account (see there). Our own client's tests use it;
     * public clients run against the lenient default.
     */
    strict: z.boolean().optional(),
    // Service sections: each service module parses its own (`findmy`, `photos`, `calls`, and any other
    // key, e.g. `contacts`, `calendar`, `notes`, kept as written; see `serviceSections`).
    findmy: z.unknown().optional(),
    photos: z.unknown().optional(),
    calls: z.unknown().optional(),
  })
  .catchall(z.unknown());

export const ScenarioSchema = z
  .object({
    partition: z.number().int().positive().default(61),
    phone_list_layout: PhoneLayout.default("legacy"),
    /**
     * Opt-in strict variant (default false = as lenient as the public clients that work against
     * Apple). Strict adds rules Apple is not known to enforce, for our own client's tests only:
     * `signin/complete` and the MFA calls need the auth context's *latest* `scnt` with
     * `X-Apple-ID-Session-Id` (or `aasp`); setup `validate`/`logout`/2SV calls need the expired
     * `X-APPLE-WEBAUTH-HSA-LOGIN` cookie back; service and 2SV calls need the account's `dsid`
     * query parameter. An account's own `strict` overrides this.
     */
    strict: z.boolean().default(false),
    accounts: z.array(AccountSchema).min(1),
    faults: z.array(FaultSpecSchema).default([]),
  })
  .superRefine((scenario, ctx) => {
    const seen = new Set<string>();
    for (const [index, account] of scenario.accounts.entries()) {
      const key = account.apple_id.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["accounts", index, "apple_id"], message: "duplicate" });
      seen.add(key);
    }
  });

/** What the file holds (input, snake_case, defaults optional). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** A parsed scenario: defaults filled in, lifetimes in milliseconds. */
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioAccount = Scenario["accounts"][number];
export type PhoneListLayout = z.output<typeof PhoneLayout>;

/** Parses scenario data (already decoded from YAML/JSON); throws a readable error when invalid. */
export function parseScenario(data: unknown): Scenario {
  const result = ScenarioSchema.safeParse(data);
  if (!result.success) throw new Error(`invalid scenario: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Reads a scenario file: `.json` as JSON, anything else as YAML. */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  const text = await readFile(path, "utf8");
  const data: unknown = path.toLowerCase().endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  return parseScenario(data);
}

/** The account's dsid: the scenario's, or 11 digits derived from the Apple ID (stable across runs). */
export function accountDsid(account: ScenarioAccount): string {
  if (account.dsid !== undefined) return String(account.dsid);
  const digest = createHash("sha256").update(account.apple_id.toLowerCase()).digest();
  return `1${(digest.readBigUInt64BE(0) % 10_000_000_000n).toString().padStart(10, "0")}`;
}

/** The keys of a scenario account the core itself reads; every other key is a service section. */
const CORE_ACCOUNT_KEYS: ReadonlySet<string> = new Set(
  Object.keys(AccountSchema.shape).filter((key) => !["findmy", "photos", "calls"].includes(key)),
);

/** The account's service sections (`findmy`, `photos`, `contacts`, …) as written, undefined ones left out. */
export function serviceSections(account: ScenarioAccount): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(account).filter(([key, value]) => !CORE_ACCOUNT_KEYS.has(key) && value !== undefined),
  );
}

export function accountFirstName(account: ScenarioAccount): string {
  if (account.first_name) return account.first_name;
  const local = account.apple_id.split("@")[0] ?? account.apple_id;
  const word = local.split(/[._+-]/)[0] || local;
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function accountFixedCode(account: ScenarioAccount): string | undefined {
  const code = account.mfa.code;
  if (code === undefined) return undefined;
  return typeof code === "number" ? String(code).padStart(6, "0") : code;
}
