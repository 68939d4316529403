import { z } from "zod";
import {
  authOptionsJson,
  authPageHtml,
  type CodeLimitFlags,
  phoneJson,
  phoneNumberVerification,
  securityCodeState,
  twoFactorState,
} from "./auth-options.ts";
import { type CoreEnv, header, parseBody } from "./core-env.ts";
import {
  CODE_LOCKED_ERROR,
  codeLockedBody,
  idmsaHeaders,
  noAuthContext,
  requestAuthSession,
  requireWidgetKey,
  TOO_MANY_CODES_SENT_ERROR,
  tooManyCodesSentBody,
  WRONG_CODE_BODY,
  withSrpSession,
} from "./idmsa-common.ts";
import { IDMSA, repairNeeded } from "./idmsa-signin-routes.ts";
import type { Route, SimResponse } from "./router.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { newGrantCode } from "./tokens.ts";
import type { AuthSession } from "./world.ts";

/**
 * Code bodies as every client sends them (pyicloud/icloudpd `validate_2fa_code`, icloudpd
 * `src/pyicloud_ipd/sms.py` `build_verify_sms_code_request`, icloud-photos-sync
 * `app/src/lib/icloud/mfa/mfa-method.ts`); without a code or phone id there is nothing to check, and
 * 400 (Apple's status for a wrong code, reference 1.8.3) is the simulator's choice for them. Extra
 * fields are ignored; `nonFTEU` (pyicloud adds it when Apple provided it) may be anything.
 */
const CodeBody = z.object({ securityCode: z.object({ code: z.string().min(1) }) });
const PhoneRef = z.object({ id: z.number().int() });
const PhoneRequestBody = z.object({ phoneNumber: PhoneRef, mode: z.enum(["sms", "voice"]).default("sms") });
const PhoneCodeBody = z.object({
  phoneNumber: PhoneRef,
  securityCode: z.object({ code: z.string().min(1) }),
  mode: z.enum(["sms", "voice"]).default("sms"),
});

type Session = AuthSession & { account: SimAccount };

/** The auth session's code-limit flags: locked after `max_wrong_codes`, sends spent after `max_code_sends`. */
export function codeLimitFlags(session: Session): CodeLimitFlags {
  const { max_wrong_codes, max_code_sends } = session.account.config.mfa;
  const locked = session.wrongCodes >= max_wrong_codes;
  return {
    tooManyCodesSent: session.codesSent >= max_code_sends,
    tooManyCodesValidated: locked,
    securityCodeLocked: locked,
  };
}

/**
 * The HSA2 second-factor routes of idmsa, repair and trust. All need the auth context from signin
 * and iCloud.com's widget key.
 */
export function idmsaMfaRoutes(env: CoreEnv): Route[] {
  return mfaRoutes(env).map(requireWidgetKey);
}

function mfaRoutes(env: CoreEnv): Route[] {
  // 2SV (hsaVersion 1) accounts have no HSA2 routes: icloudpd `src/pyicloud_ipd/base.py`
  // `validate_verification_code` notes `/2sv/trust` answers 404 for them; the other routes follow.
  const hsa2Only = (session: Session, run: () => SimResponse): SimResponse =>
    session.account.config.mfa.kind === "hsa2" ? run() : { status: 404, headers: idmsaHeaders(env, session) };
  const badRequest = (session: Session): SimResponse => ({ status: 400, headers: idmsaHeaders(env, session) });
  /** Checks a submitted code against the per-sign-in wrong-code limit; undefined when it was right. */
  const checkCode = (session: Session, channelKey: string, code: string): SimResponse | undefined => {
    if (codeLimitFlags(session).securityCodeLocked) {
      return {
        status: 400,
        headers: idmsaHeaders(env, session, { "X-Apple-I-Ercd": CODE_LOCKED_ERROR }),
        json: codeLockedBody(twoFactorState(session.account, codeLimitFlags(session))),
      };
    }
    if (env.world.accounts.checkCode(session.account, channelKey, code)) return undefined;
    session.wrongCodes += 1;
    return { status: 400, headers: idmsaHeaders(env, session, { "X-Apple-I-Ercd": "-21669" }), json: WRONG_CODE_BODY };
  };
  /** Sends a code unless this sign-in already sent `max_code_sends`; undefined when it was sent. */
  const sendCode = (
    session: Session,
    channelKey: string,
    channel: "device" | "sms" | "voice",
  ): SimResponse | undefined => {
    if (codeLimitFlags(session).tooManyCodesSent) {
      return {
        status: 400,
        headers: idmsaHeaders(env, session, { "X-Apple-I-Ercd": TOO_MANY_CODES_SENT_ERROR }),
        json: tooManyCodesSentBody(twoFactorState(session.account, codeLimitFlags(session))),
      };
    }
    env.world.accounts.sendCode(session.account, channelKey, channel);
    session.codesSent += 1;
    return undefined;
  };
  const deviceCodeSent = (session: Session): SimResponse =>
    sendCode(session, "device", "device") ?? {
      status: 202,
      headers: idmsaHeaders(env, session),
      json: twoFactorState(session.account, codeLimitFlags(session)),
    };
  /** A verified code: the auth session may now ask for trust; a 2FA-complete session token is issued. */
  const codeAccepted = (session: Session, status: number, json?: unknown): SimResponse => {
    session.codeVerified = true;
    session.mfaDone = true;
    const token = env.world.issueSessionToken(session.account, { mfaDone: true });
    return {
      status,
      headers: idmsaHeaders(env, session, {
        "X-Apple-Session-Token": token.value,
        "X-Apple-OAuth-Grant-Code": newGrantCode(),
        "X-Apple-Auth-Attributes": session.authAttributes,
      }),
      ...(json === undefined ? {} : { json }),
    };
  };

  return [
    {
      id: "idmsa.auth",
      method: "GET",
      path: IDMSA,
      handle: (req) =>
        withSrpSession(env, req, (session) =>
          hsa2Only(session, () => {
            const accept = header(req, "accept") ?? "";
            const flags = codeLimitFlags(session);
            if (accept.includes("application/json") && !accept.includes("text/html")) {
              return {
                status: 200,
                headers: idmsaHeaders(env, session),
                json: authOptionsJson(session.account, flags),
              };
            }
            const headers = idmsaHeaders(env, session, { "Content-Type": "text/html;charset=UTF-8" });
            return { status: 200, headers, body: authPageHtml(session.account, flags) };
          }),
        ),
    },
    {
      id: "idmsa.trusteddevice.trigger",
      method: "PUT",
      path: `${IDMSA}/verify/trusteddevice/securitycode`,
      handle: (req) => withSrpSession(env, req, (session) => hsa2Only(session, () => deviceCodeSent(session))),
    },
    {
      // Older "resend to devices" call (ips); same effect as the PUT above.
      id: "idmsa.trusteddevice.resend",
      method: ["PUT", "GET"],
      path: `${IDMSA}/verify/trusteddevice`,
      handle: (req) => withSrpSession(env, req, (session) => hsa2Only(session, () => deviceCodeSent(session))),
    },
    {
      id: "idmsa.trusteddevice.verify",
      method: "POST",
      path: `${IDMSA}/verify/trusteddevice/securitycode`,
      handle: (req) =>
        withSrpSession(env, req, (session) =>
          hsa2Only(session, () => {
            const body = parseBody(req, CodeBody);
            if (!body) return badRequest(session);
            return checkCode(session, "device", body.securityCode.code) ?? codeAccepted(session, 204);
          }),
        ),
    },
    {
      id: "idmsa.phone.request",
      method: ["PUT", "POST"],
      path: `${IDMSA}/verify/phone`,
      handle: (req) =>
        withSrpSession(env, req, (session) =>
          hsa2Only(session, () => {
            const body = parseBody(req, PhoneRequestBody);
            const phone = session.account.config.mfa.trusted_phone_numbers.find((p) => p.id === body?.phoneNumber.id);
            if (!body || !phone) return badRequest(session);
            const refused = sendCode(session, `phone:${phone.id}`, body.mode);
            if (refused) return refused;
            const json = {
              ...phoneNumberVerification(session.account, phone.id, codeLimitFlags(session)),
              mode: body.mode,
            };
            return { status: 200, headers: idmsaHeaders(env, session), json };
          }),
        ),
    },
    {
      id: "idmsa.phone.verify",
      method: "POST",
      path: `${IDMSA}/verify/phone/securitycode`,
      handle: (req) =>
        withSrpSession(env, req, (session) =>
          hsa2Only(session, () => {
            const body = parseBody(req, PhoneCodeBody);
            const phone = session.account.config.mfa.trusted_phone_numbers.find((p) => p.id === body?.phoneNumber.id);
            if (!body || !phone) return badRequest(session);
            const code = body.securityCode.code;
            const refused = checkCode(session, `phone:${phone.id}`, code);
            if (refused) return refused;
            if (session.account.config.repair_needed) {
              session.codeVerified = true;
              session.mfaDone = true;
              return repairNeeded(env, session, session.account, true);
            }
            return codeAccepted(session, 200, {
              trustedPhoneNumber: phoneJson(phone),
              securityCode: { code, valid: true, ...securityCodeState(codeLimitFlags(session)) },
              mode: body.mode,
              type: "verification",
              authenticationType: "hsa2",
              hsa2Account: true,
            });
          }),
        ),
    },
    {
      id: "idmsa.repair.complete",
      method: "POST",
      path: `${IDMSA}/repair/complete`,
      handle: (req) => {
        // icloudpd `src/pyicloud_ipd/base.py` posts `{}` here right after a 412, with the auth
        // headers; without a pending repair in a live auth context the answer (401) is the simulator's.
        const session = requestAuthSession(env, req);
        if (!session?.srpVerified || !session.account || !session.repairPending) return noAuthContext();
        session.repairPending = false;
        const token = env.world.issueSessionToken(session.account, { mfaDone: session.mfaDone });
        return { status: 204, headers: idmsaHeaders(env, session, { "X-Apple-Session-Token": token.value }) };
      },
    },
    {
      id: "idmsa.trust",
      method: "GET",
      path: `${IDMSA}/2sv/trust`,
      handle: (req) =>
        withSrpSession(env, req, (session) =>
          hsa2Only(session, () => {
            // Every client asks for trust only after a code was accepted (pyicloud/icloudpd
            // `trust_session` after `validate_2fa_code`, icloud-photos-sync `getTokens` after
            // `submitMFA`); Apple's answer without one is not recorded (401 is the simulator's).
            if (!session.codeVerified) return noAuthContext();
            const trust = env.world.issueTrustToken(session.account);
            const token = env.world.issueSessionToken(session.account, { mfaDone: true });
            return {
              status: 204,
              headers: idmsaHeaders(env, session, {
                "X-Apple-TwoSV-Trust-Token": trust.value,
                "X-Apple-Session-Token": token.value,
              }),
            };
          }),
        ),
    },
  ];
}
