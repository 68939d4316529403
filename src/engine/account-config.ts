import { z } from "zod";
import { durationField, notBoth, nullableString } from "../config/fields.ts";
import { GENERIC_SERVICES } from "./services/generic.ts";
import type { ServiceKey, ServiceModuleOf } from "./services/types.ts";

/** One iCloud account as the engine runs it: credentials plus one section per service (see services/registry.ts). */

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Ids that would clash with the program's own topics or routes. */
export const RESERVED_ACCOUNT_IDS = ["bridge"] as const;

const coreShape = {
  id: z
    .string()
    .regex(ACCOUNT_ID_PATTERN, "must match ^[a-z0-9][a-z0-9_-]{0,31}$ (lower case, digits, _ and -)")
    .refine((id) => !(RESERVED_ACCOUNT_IDS as readonly string[]).includes(id), {
      message: `is reserved (${RESERVED_ACCOUNT_IDS.join(", ")}): it would clash with the <base>/bridge topics`,
    })
    .describe("Short unique id, used in MQTT topics and as HTTP ?account=."),
  username: z.string().min(1).describe("Apple ID (e-mail address or phone number)."),
  password: nullableString(
    "Apple ID password. Optional: only needed for a full sign-in when no stored session is valid. Prefer password_file or ICLOUD2MQTT_ACCOUNTS__<n>__PASSWORD.",
  ),
  password_file: nullableString("File holding the Apple ID password (e.g. a Docker secret); trailing newline trimmed."),
  region: z
    .enum(["international", "china"])
    .default("international")
    .describe("Apple region: international or china (icloud.com.cn)."),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .default(null)
    .describe("Advanced: base URL replacing every Apple host (used by the simulator)."),
  mfa_timeout: durationField("30m", "How long the account waits for a two-factor code before giving up."),
};

type ServiceShape = { [K in ServiceKey]: z.ZodPrefault<ServiceModuleOf<K>["config"]> };

function serviceShape(): ServiceShape {
  const shape: Record<string, z.ZodType> = {};
  for (const service of GENERIC_SERVICES) shape[service.key] = service.config.prefault({});
  return shape as ServiceShape;
}

export const AccountSchema = z
  .strictObject({ ...coreShape, ...serviceShape() })
  .superRefine((account, ctx) => notBoth(account, "password", "password_file", ctx), {
    // Runs beside other problems, so any key may still be missing here.
    when: (payload) => typeof payload.value === "object" && payload.value !== null,
  })
  .describe("An iCloud account.");

export type AccountConfig = z.output<typeof AccountSchema>;
/** An account as written (every key with a default is optional). */
export type AccountConfigInput = z.input<typeof AccountSchema>;

/** A list of accounts with unique ids (duplicates are reported together with other problems). */
export const AccountListSchema = z
  .array(AccountSchema, {
    error: (issue) => (issue.input === undefined ? "at least one account is required" : undefined),
  })
  .min(1, "at least one account is required")
  .superRefine(uniqueAccountIds, { when: (payload) => Array.isArray(payload.value) });

function uniqueAccountIds(accounts: ReadonlyArray<{ id?: unknown } | undefined>, ctx: z.RefinementCtx): void {
  const seen = new Set<unknown>();
  accounts.forEach((account, index) => {
    const id = account?.id;
    if (typeof id !== "string") return;
    if (seen.has(id)) ctx.addIssue({ code: "custom", path: [index, "id"], message: `duplicate account id "${id}"` });
    seen.add(id);
  });
}
