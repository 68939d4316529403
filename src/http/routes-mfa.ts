import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { Routes, Services } from "./context.ts";
import { awaiting, resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { message } from "./respond.ts";

const CodeSchema = z.string().regex(/^\d{6}$/);
/** Legacy two-step verification codes are 4 digits; the session checks the exact length. */
const TwoStepCodeSchema = z.string().regex(/^\d{4,8}$/);
/** `method` is in the session's error info ("2sv" for two-step), should the state carry it. */
const MethodProbeSchema = z.object({ method: z.string() });

/**
 * Whether a blocked account awaits a legacy two-step code rather than a two-factor one. The
 * published state tells by `session.error_info`: a two-factor code request always lists the
 * trusted phone numbers (possibly none), a two-step one never does (its info only held
 * `method: "2sv"`, which the state view leaves out; it is honoured if present).
 */
function awaitsTwoStepCode(state: AccountState): boolean {
  const info = state.session.error_info;
  if (info === null) return false;
  const probe = MethodProbeSchema.safeParse(info);
  if (probe.success) return probe.data.method === "2sv";
  return info.trusted_phone_numbers === undefined;
}
const MethodSchema = z.enum(["sms", "voice", "device"]);
const PhoneIdSchema = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number)
  .pipe(z.number().int().positive());
const ChoiceSchema = z.string().min(1).max(200);
const METHOD_LABEL = { sms: "SMS", voice: "Voice", device: "Device" } as const;

/**
 * Two-factor endpoints. Unlike icloud-photos-sync, `/api/mfa` and `/api/resend_mfa` wait for
 * the engine's verdict: a rejected code is a 400 (the account stays blocked, the user may
 * retry), and a failed resend is reported instead of only logged. The code is never echoed.
 * `/api/mfa` wants exactly six digits (as the original) unless the account awaits a legacy
 * two-step code (4 digits): then 4 to 8, and the session enforces the exact length.
 */
export function mfaRoutes(s: Services): Routes {
  return {
    "/api/mfa": {
      POST: async ({ query }) => {
        const account = resolveAccount(s.api, query);
        const state = s.api.snapshot(account).state;
        if (awaiting(state) !== "code") throw new HttpError(412, "MFA code not expected at this time.");
        const twoStep = awaitsTwoStepCode(state);
        const code = (twoStep ? TwoStepCodeSchema : CodeSchema).safeParse(query.get("code"));
        if (!code.success)
          throw new HttpError(
            400,
            twoStep
              ? "Unexpected MFA code format! Expecting 4 to 8 digits"
              : "Unexpected MFA code format! Expecting 6 digits",
          );
        const wait = s.mfaLimiter.hit(account);
        if (wait > 0)
          throw new HttpError(429, `Too many verification attempts; try again in ${wait} seconds`, {
            "retry-after": String(wait),
          });
        await s.api.execute("mfa", { account, code: code.data });
        return message(200, "Read MFA code");
      },
    },
    "/api/resend_mfa": {
      POST: async ({ query }) => {
        const account = resolveAccount(s.api, query);
        if (s.api.snapshot(account).state.state !== "blocked")
          throw new HttpError(412, "MFA code not expected at this time.");
        const method = MethodSchema.safeParse(query.get("method"));
        if (!method.success) throw new HttpError(400, "Resend method does not match expected format");
        const rawId = query.get("phoneNumberId");
        let phoneId = 1;
        if (rawId !== null && method.data !== "device") {
          const parsed = PhoneIdSchema.safeParse(rawId);
          if (!parsed.success) throw new HttpError(400, "Phone number ID must be a positive integer");
          phoneId = parsed.data;
        }
        if (method.data === "device") {
          await s.api.execute("resend_mfa", { account, method: "device" });
          return message(200, "Requesting MFA resend with method 'Device'");
        }
        await s.api.execute("resend_mfa", { account, method: method.data, phone_number_id: phoneId });
        return message(200, `Requesting MFA resend with method '${METHOD_LABEL[method.data]}' (Number ID: ${phoneId})`);
      },
    },
    "/api/choice": {
      POST: async ({ query }) => {
        const account = resolveAccount(s.api, query);
        const state = s.api.snapshot(account).state;
        if (awaiting(state) !== "choice") throw new HttpError(412, "No choice expected at this time.");
        const choice = ChoiceSchema.safeParse(query.get("choice"));
        const choices = state.session.error_info?.choices;
        if (!choice.success || (choices !== undefined && !choices.includes(choice.data)))
          throw new HttpError(400, "Unknown choice; pick one of the offered options");
        await s.api.execute("choice", { account, choice: choice.data });
        return message(200, "Choice received");
      },
    },
  };
}
