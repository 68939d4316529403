import { z } from "zod";
import { EngineError } from "../errors.ts";
import {
  type AccountLogin,
  accountLoginOtherSchema,
  accountLoginSchema,
  listDevicesSchema,
  serviceErrorCodes,
  signinInitSchema,
  successSchema,
  type TwoSvDevice,
} from "./apple-schemas.ts";
import { type AuthContext, idmsaCall, setupCall, unexpected } from "./auth-context.ts";
import { type AuthOptions, parseAuthOptions } from "./auth-options.ts";
import type { HttpResponse } from "./http.ts";
import { SrpClient } from "./srp.ts";

/** Outcome of `signin/complete`. */
export type SrpOutcome = "signed-in" | "hsa2" | "repair";

/** SRP `signin/init` + `signin/complete` with the stored trust token. Counts the sign-in. */
export async function srpSignIn(ctx: AuthContext, password: string): Promise<SrpOutcome> {
  const accountName = ctx.data.username;
  const client = new SrpClient(accountName);
  const init = await idmsaCall(ctx, "POST", "/signin/init", {
    body: { a: client.publicKey, accountName, protocols: ["s2k", "s2k_fo"] },
  });
  if (init.status !== 200) throw unexpected("signin/init", init);
  const challenge = signinInitSchema.safeParse(init.json);
  if (!challenge.success) throw badBody("signin/init", init);
  const proof = client.computeProof(password, challenge.data);
  ctx.data.srp_sign_ins += 1;
  ctx.log.info("signing in with SRP", { srp_sign_ins: ctx.data.srp_sign_ins });
  const complete = await idmsaCall(ctx, "POST", "/signin/complete", {
    query: { isRememberMeEnabled: "true" },
    body: {
      accountName,
      c: challenge.data.c,
      m1: proof.m1,
      m2: proof.m2,
      rememberMe: true,
      trustTokens: ctx.data.trust_token === undefined ? [] : [ctx.data.trust_token],
    },
    idempotent: false,
  });
  switch (complete.status) {
    case 200:
      return "signed-in";
    case 409:
      if (hasSecurityKey(complete.json)) {
        throw new EngineError(
          "SECURITY_KEY_REQUIRED",
          "This account uses security keys for two-factor authentication, which the bridge cannot use",
        );
      }
      return "hsa2";
    case 412:
      return "repair";
    case 401:
      throw new EngineError("INVALID_CREDENTIALS", "Apple rejected the username or password", {
        info: { status: 401 },
      });
    default:
      throw unexpected("signin/complete", complete);
  }
}

/** `POST /repair/complete {}` after a 412. */
export async function repairComplete(ctx: AuthContext): Promise<void> {
  const res = await idmsaCall(ctx, "POST", "/repair/complete", { body: {}, idempotent: false });
  if (res.status < 200 || res.status >= 300) throw unexpected("repair/complete", res);
}

/** `GET /appleauth/auth`: the trusted phone numbers (HTML boot_args, either layout, or JSON). */
export async function fetchAuthOptions(ctx: AuthContext): Promise<AuthOptions> {
  const res = await idmsaCall(ctx, "GET", "", { accept: "text/html" });
  if (res.status < 200 || res.status >= 300) throw unexpected("auth options", res);
  return parseAuthOptions(res.text);
}

/** `PUT /verify/trusteddevice/securitycode` (no body): makes the trusted devices show a code. */
export async function triggerDeviceCode(ctx: AuthContext): Promise<boolean> {
  const res = await idmsaCall(ctx, "PUT", "/verify/trusteddevice/securitycode");
  const limit = codeLimitError(res);
  if (limit) throw limit;
  if (res.status >= 200 && res.status < 300) return true;
  if (res.status === 412) return true;
  if (res.status === 400 || res.status === 404) return false;
  throw unexpected("trigger device code", res);
}

/** `PUT /verify/phone`: sends a code by SMS or voice call to a trusted number. */
export async function requestPhoneCode(ctx: AuthContext, phoneId: number, mode: "sms" | "voice"): Promise<void> {
  const res = await idmsaCall(ctx, "PUT", "/verify/phone", { body: { phoneNumber: { id: phoneId }, mode } });
  const limit = codeLimitError(res);
  if (limit) throw limit;
  if (res.status >= 200 && res.status < 300) return;
  throw unexpected(`request ${mode} code`, res);
}

/** Submits an HSA2 code; returns false for a wrong code (-21669). */
export async function submitHsa2Code(
  ctx: AuthContext,
  code: string,
  via: { method: "device" } | { method: "sms" | "voice"; phoneId: number },
): Promise<boolean> {
  const res =
    via.method === "device"
      ? await idmsaCall(ctx, "POST", "/verify/trusteddevice/securitycode", {
          body: { securityCode: { code } },
          idempotent: false,
        })
      : await idmsaCall(ctx, "POST", "/verify/phone/securitycode", {
          body: { phoneNumber: { id: via.phoneId }, securityCode: { code }, mode: via.method },
          idempotent: false,
        });
  if (res.status === 412) {
    await repairComplete(ctx);
    return true;
  }
  if (res.status >= 200 && res.status < 300) return true;
  const limit = codeLimitError(res);
  if (limit) throw limit;
  if (isWrongCode(res)) return false;
  throw unexpected("verify security code", res);
}

/**
 * `GET /2sv/trust`: stores the trust token and the fresh session token (captured headers). A 5xx
 * is thrown (transient: the step is resumed); a refusal only means this browser is not remembered.
 */
export async function fetchTrust(ctx: AuthContext): Promise<void> {
  const res = await idmsaCall(ctx, "GET", "/2sv/trust");
  if (res.status >= 200 && res.status < 300) return;
  if (res.status >= 500) throw unexpected("2sv/trust", res);
  ctx.log.warn("2sv/trust refused; this browser will not be remembered", {
    username: ctx.data.username,
    status: res.status,
  });
}

export type LoginOutcome = "ok" | "hsa2" | "2sv";

/** `POST accountLogin` with the stored session + trust tokens. Undefined when the tokens are refused. */
export async function accountLogin(ctx: AuthContext): Promise<LoginOutcome | undefined> {
  if (ctx.data.session_token === undefined) return undefined;
  const res = await setupCall(ctx, "POST", "/accountLogin", {
    body: {
      accountCountryCode: ctx.data.account_country ?? "",
      dsWebAuthToken: ctx.data.session_token,
      extended_login: true,
      trustToken: ctx.data.trust_token ?? "",
    },
  });
  return handleLogin(ctx, "accountLogin", res);
}

/** `POST validate` with the web session cookies. Undefined when the web session is gone. */
export async function validateSession(ctx: AuthContext): Promise<LoginOutcome | undefined> {
  if (!ctx.http.jar.has("X-APPLE-WEBAUTH-TOKEN")) return undefined;
  const res = await setupCall(ctx, "POST", "/validate");
  return handleLogin(ctx, "validate", res);
}

function handleLogin(ctx: AuthContext, step: string, res: HttpResponse): LoginOutcome | undefined {
  // 450: "Authentication required" (reference 5): the stored session is over, like 421.
  if (res.status === 421 || res.status === 450 || res.status === 401 || res.status === 403 || res.status === 400) {
    ctx.log.info(`${step} refused the stored session`, { username: ctx.data.username, status: res.status });
    return undefined;
  }
  if (res.status !== 200) throw unexpected(step, res);
  const parsed = accountLoginSchema.safeParse(res.json);
  if (!parsed.success) {
    const other = accountLoginOtherSchema.safeParse(res.json);
    if (other.success && other.data.domainToUse !== undefined) {
      throw new EngineError(
        "WRONG_REGION",
        `This account must sign in at ${other.data.domainToUse} (check the china option)`,
        {
          info: { domain_to_use: other.data.domainToUse },
        },
      );
    }
    if (other.success && other.data.success === false) return undefined;
    throw badBody(step, res);
  }
  return applyAccount(ctx, parsed.data);
}

function applyAccount(ctx: AuthContext, account: AccountLogin): LoginOutcome {
  ctx.data.dsid = account.dsInfo.dsid;
  ctx.data.hsa_version = account.dsInfo.hsaVersion;
  ctx.data.webservices = account.webservices;
  if (account.dsInfo.isWebAccessAllowed === false) {
    throw new EngineError(
      "WEB_ACCESS_DISABLED",
      'Turn on "Access iCloud Data on the Web" in the iCloud settings of a trusted device',
    );
  }
  const hsa = account.dsInfo.hsaVersion ?? 0;
  const challenge = account.hsaChallengeRequired === true || account.hsaTrustedBrowser !== true;
  if (hsa === 2 && challenge) return "hsa2";
  if (hsa >= 1 && challenge) return "2sv";
  return "ok";
}

/** Legacy 2SV: `GET listDevices`. */
export async function listTwoSvDevices(ctx: AuthContext): Promise<TwoSvDevice[]> {
  const res = await setupCall(ctx, "GET", "/listDevices");
  if (res.status !== 200) throw unexpected("listDevices", res);
  const parsed = listDevicesSchema.safeParse(res.json);
  if (!parsed.success) throw badBody("listDevices", res);
  return parsed.data.devices;
}

/** Legacy 2SV: `POST sendVerificationCode` with the chosen device. */
export async function sendTwoSvCode(ctx: AuthContext, device: TwoSvDevice): Promise<void> {
  const res = await setupCall(ctx, "POST", "/sendVerificationCode", { body: device, idempotent: false });
  const ok = successSchema.safeParse(res.json);
  if (res.status !== 200 || !ok.success || ok.data.success === false) throw unexpected("sendVerificationCode", res);
}

/** Legacy 2SV: `POST validateVerificationCode`; false for a wrong code. */
export async function validateTwoSvCode(ctx: AuthContext, device: TwoSvDevice, code: string): Promise<boolean> {
  const res = await setupCall(ctx, "POST", "/validateVerificationCode", {
    body: { ...device, verificationCode: code, trustBrowser: true },
    idempotent: false,
  });
  const ok = successSchema.safeParse(res.json);
  if (res.status === 200 && ok.success && ok.data.success !== false) return true;
  if (isWrongCode(res) || (ok.success && String(ok.data.errorCode) === "-21669")) return false;
  throw unexpected("validateVerificationCode", res);
}

function hasSecurityKey(body: unknown): boolean {
  return typeof body === "object" && body !== null && "fsaChallenge" in body;
}

/** Why a code limit error was raised (`info.reason`). */
export type CodeLimitReason = "security-code-locked" | "too-many-codes-sent";

/**
 * A refused idmsa answer whose `securityCode` state (top level or under `phoneNumberVerification`,
 * reference 1.8.1) says a code limit was hit: too many wrong codes (`securityCodeLocked` /
 * `tooManyCodesValidated`) or too many codes sent (`tooManyCodesSent`). Not retryable: retrying
 * only extends the lock; the user has to wait.
 */
export function codeLimitError(res: HttpResponse): EngineError | undefined {
  if (res.status >= 200 && res.status < 300) return undefined;
  const flags = securityCodeFlags(res.json);
  const info = {
    status: res.status,
    ...(serviceErrorCodes(res.json).length > 0 ? { apple_codes: serviceErrorCodes(res.json) } : {}),
  };
  if (flags.has("securityCodeLocked") || flags.has("tooManyCodesValidated")) {
    return new EngineError(
      "RATE_LIMITED",
      "Too many incorrect verification codes: Apple has locked code entry for this sign-in. Wait before signing in and entering a code again",
      { info: { ...info, reason: "security-code-locked" satisfies CodeLimitReason }, retryable: false },
    );
  }
  if (flags.has("tooManyCodesSent")) {
    return new EngineError(
      "RATE_LIMITED",
      "Apple has sent too many verification codes for this sign-in. Enter a code you already received, or wait before requesting a new one",
      { info: { ...info, reason: "too-many-codes-sent" satisfies CodeLimitReason }, retryable: false },
    );
  }
  return undefined;
}

const securityCodeStateSchema = z
  .object({
    tooManyCodesSent: z.boolean().optional(),
    tooManyCodesValidated: z.boolean().optional(),
    securityCodeLocked: z.boolean().optional(),
  })
  .loose();
const codeLimitBodySchema = z
  .object({
    securityCode: securityCodeStateSchema.optional(),
    phoneNumberVerification: z.object({ securityCode: securityCodeStateSchema.optional() }).loose().optional(),
  })
  .loose();

/** The `securityCode` limit flags that are true in an idmsa body. */
function securityCodeFlags(body: unknown): Set<string> {
  const parsed = codeLimitBodySchema.safeParse(body);
  const flags = new Set<string>();
  if (!parsed.success) return flags;
  for (const state of [parsed.data.securityCode, parsed.data.phoneNumberVerification?.securityCode]) {
    if (state?.tooManyCodesSent === true) flags.add("tooManyCodesSent");
    if (state?.tooManyCodesValidated === true) flags.add("tooManyCodesValidated");
    if (state?.securityCodeLocked === true) flags.add("securityCodeLocked");
  }
  return flags;
}

function isWrongCode(res: HttpResponse): boolean {
  return res.headers["x-apple-i-ercd"] === "-21669" || serviceErrorCodes(res.json).includes("-21669");
}

function badBody(step: string, res: HttpResponse): EngineError {
  return new EngineError("UNEXPECTED_RESPONSE", `${step}: answer did not have the expected shape`, {
    info: { status: res.status },
  });
}
