import type { EngineError } from "../errors.ts";
import type { TwoSvDevice } from "./apple-schemas.ts";
import type { AuthContext } from "./auth-context.ts";
import type {
  SessionErrorInfo,
  SessionSnapshot,
  SessionState,
  SignInHolder,
  TrustedPhoneNumber,
} from "./session-types.ts";

/** The ricloud-style label of a legacy 2SV device, e.g. `********58 - SMS to Phone Number`. */
export function twoSvChoice(device: TwoSvDevice): string {
  if (device.deviceType === "SMS" || (device.phoneNumber !== undefined && device.deviceName === undefined)) {
    return `${device.areaCode ?? ""}${device.phoneNumber ?? device.deviceId} - SMS to Phone Number`;
  }
  return `${device.deviceName ?? device.deviceType ?? device.deviceId} - ${device.deviceType ?? "Device"}`;
}

/** The choice label of a trusted phone number for SMS or voice. */
export function phoneChoice(phone: TrustedPhoneNumber, mode: "sms" | "voice"): string {
  return `${phone.number} - ${mode === "sms" ? "SMS" : "Voice call"} to Phone Number`;
}

/** HSA trust expiry from the `X-APPLE-WEBAUTH-HSA-TRUST` cookie, as ISO time. */
export function trustExpiresAt(ctx: AuthContext): string | null {
  const cookie = ctx.http.jar.all().find((c) => c.key === "X-APPLE-WEBAUTH-HSA-TRUST" && c.value !== "");
  const expiry = cookie?.expiryTime();
  return expiry === undefined || !Number.isFinite(expiry) ? null : new Date(expiry).toISOString();
}

export function snapshotOf(
  username: string,
  state: SessionState,
  error: EngineError | undefined,
  ctx: AuthContext,
  awaiting: "code" | "choice" | null,
  waitingFor: SignInHolder | null = null,
): SessionSnapshot {
  return {
    username,
    state,
    error: error?.sessionError ?? null,
    error_info: error === undefined ? null : publicInfo(error.info),
    message: error?.message ?? null,
    trust_expires_at: trustExpiresAt(ctx),
    srp_sign_ins: ctx.data.srp_sign_ins,
    hsa_version: ctx.data.hsa_version ?? null,
    webservices: Object.keys(ctx.data.webservices ?? {}).sort(),
    awaiting,
    waiting_for: waitingFor,
  };
}

/** Only the documented, non-secret fields of an error's info. */
function publicInfo(info: Record<string, unknown>): SessionErrorInfo {
  const out: SessionErrorInfo = {};
  if (Array.isArray(info["choices"])) out.choices = (info["choices"] as unknown[]).map(String);
  if (Array.isArray(info["trusted_phone_numbers"])) {
    out.trusted_phone_numbers = (info["trusted_phone_numbers"] as TrustedPhoneNumber[]).map((p) => ({
      id: p.id,
      number: p.number,
      push_mode: p.push_mode,
    }));
  }
  const method = info["method"];
  if (method === "device" || method === "sms" || method === "voice" || method === "2sv") out.method = method;
  if (typeof info["retry_after"] === "number") out.retry_after = info["retry_after"];
  if (typeof info["status"] === "number") out.status = info["status"];
  const holder = signInHolder(info["holder"]);
  if (holder !== undefined) out.holder = holder;
  return out;
}

/** A lock holder as the snapshot shows it (only these four fields). */
export function signInHolder(value: unknown): SignInHolder | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const text = (x: unknown): string | null => (typeof x === "string" ? x : null);
  return {
    pid: typeof v["pid"] === "number" ? v["pid"] : null,
    host: text(v["host"]),
    command: text(v["command"]),
    since: text(v["since"]),
  };
}
