import { accountLoginBody } from "./account-login-body.ts";
import { type CoreEnv, isStrict } from "./core-env.ts";
import type { SimRequest, SimResponse } from "./router.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { HSA_LOGIN, HSA_TRUST, WEBAUTH_TOKEN, webSessionCookies } from "./web-cookies.ts";
import { type TrustToken, unquote, type WebSession } from "./world.ts";

export const SETUP = "/setup/ws/1";

/** 421 Misdirected Request, the setup service's "session not valid" (27 bytes, as icloud4j#15 saw). */
export const MISDIRECTED: SimResponse = { status: 421, json: { success: false, error: 1 } };

export function cookieValue(req: SimRequest, name: string): string | undefined {
  const value = req.cookies.get(name);
  return value === undefined ? undefined : unquote(value);
}

/** The trust the request proves: a valid trust token in the body or the HSA-TRUST cookie. */
export function requestTrust(
  env: CoreEnv,
  req: SimRequest,
  account: SimAccount,
  bodyToken?: string,
): TrustToken | undefined {
  for (const value of [bodyToken, cookieValue(req, HSA_TRUST)]) {
    const trust = value ? env.world.findTrustToken(value, account) : undefined;
    if (trust) return trust;
  }
  return undefined;
}

/**
 * The web session of a setup request (validate, logout, 2SV): X-APPLE-WEBAUTH-TOKEN must be a live
 * validate token. Evidence: pyicloud `pyicloud/base.py` `_validate_token` refuses to call validate
 * without that cookie, and clients re-authenticate on the 421 that follows its expiry (reference 1.12,
 * icloud.js#30 "Invalid global session" after about an hour).
 *
 * Strict only: the already-expired X-APPLE-WEBAUTH-HSA-LOGIN cookie must come back too (icloud-photos-sync
 * `app/src/lib/resources/network-manager.ts` `isNotExpired` keeps it on purpose). The default does
 * not ask for it: Python's `http.cookiejar` drops cookies that arrive expired, so pyicloud and
 * icloudpd never send it, and nothing shows Apple refusing them for that.
 */
export function requestWebSession(env: CoreEnv, req: SimRequest): WebSession | undefined {
  const session = env.world.webSessionByValidateToken(cookieValue(req, WEBAUTH_TOKEN));
  if (!session) return undefined;
  if (isStrict(env, session.account) && cookieValue(req, HSA_LOGIN) !== session.hsaLogin) return undefined;
  return session;
}

/** 200 with the accountLogin body and a fresh set of web cookies (new X-APPLE-WEBAUTH-TOKEN). */
export function webSessionAnswer(env: CoreEnv, session: WebSession, trust: TrustToken | undefined): SimResponse {
  const account = session.account;
  const kind = account.config.mfa.kind;
  const mfaDone = session.mfaDone || trust !== undefined || kind === "none";
  session.restricted = !mfaDone || session.repairPending;
  const validate = env.world.issueValidateToken(session);
  const body = accountLoginBody(
    account,
    env.origin(),
    env.scenario.partition,
    {
      hsaChallengeRequired: !mfaDone,
      hsaTrustedBrowser: kind !== "none" && trust !== undefined,
      isRepairNeeded: session.repairPending,
      extendedLogin: session.extendedLogin,
    },
    env.webservices,
  );
  return {
    status: 200,
    headers: {
      "Set-Cookie": webSessionCookies(env, session, validate.value, trust),
      "X-Apple-User-Partition": String(env.scenario.partition),
    },
    json: body,
  };
}
