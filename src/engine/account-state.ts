import { z } from "zod";
import { SERVICES } from "./services/registry.ts";
import type { ServiceKey } from "./services/types.ts";

/** The iCloud session as front-ends see it (ricloud's session model; never any secret). */
export const SessionViewSchema = z.object({
  state: z.enum(["pending", "active", "failed", "expired"]),
  error: z.string().nullable(),
  error_info: z
    .object({
      choices: z.array(z.string()).optional(),
      trusted_phone_numbers: z
        .array(z.object({ id: z.number(), number: z.string(), push_mode: z.string() }))
        .optional(),
      retry_after: z.number().optional(),
      /** Where the awaited code was sent: a two-factor `device`/`sms`/`voice` code, or a legacy `2sv` code. */
      method: z.enum(["device", "sms", "voice", "2sv"]).optional(),
    })
    .nullable(),
  trust_expires_at: z.string().nullable(),
});
export type SessionView = z.infer<typeof SessionViewSchema>;

export const ServiceStatusSchema = z.object({
  enabled: z.boolean(),
  available: z.boolean(),
  message: z.string().nullable(),
  last_sync: z.string().nullable(),
  next_sync: z.string().nullable(),
});
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;

/** One status per registered service, keyed by the service's key. */
const ServicesStatusSchema = z.object(
  Object.fromEntries(SERVICES.map((service) => [service.key, ServiceStatusSchema])) as Record<
    ServiceKey,
    typeof ServiceStatusSchema
  >,
);

/**
 * Per-account state, shaped like icloud-photos-sync's `/api/state` (camelCase keys kept for
 * compatibility) plus the session and per-service status. `blocked` means waiting for MFA.
 */
export const AccountStateSchema = z.object({
  account: z.string(),
  state: z.enum(["ready", "running", "blocked"]),
  timestamp: z.number(),
  nextSync: z.number().nullable(),
  prevError: z.object({ message: z.string(), code: z.string() }).nullable(),
  prevTrigger: z.enum(["sync", "auth"]).nullable(),
  progressMsg: z.string().nullable(),
  progress: z.number().nullable(),
  trustedPhoneNumbers: z.array(z.object({ id: z.number(), maskedNumber: z.string() })).optional(),
  session: SessionViewSchema,
  services: ServicesStatusSchema,
});
export type AccountState = z.infer<typeof AccountStateSchema>;
