import { type CoreEnv, cookieLine, header } from "./core-env.ts";
import type { SimRequest, SimResponse } from "./router.ts";
import type { AuthSession } from "./world.ts";

/** `{"serviceErrors":[...]}` as signin answers carry it. */
export function serviceErrors(code: string, message: string): unknown {
  return { serviceErrors: [{ code, message, suppressDismissal: false }] };
}

/** The body of a wrong 2FA code (400, X-Apple-I-Ercd: -21669). */
export const WRONG_CODE_BODY = {
  service_errors: [
    {
      code: "-21669",
      title: "Incorrect Verification Code",
      message: "Incorrect verification code.",
      suppressDismissal: false,
    },
  ],
  hasError: true,
};

/**
 * The auth session a request names: `X-Apple-ID-Session-Id` (or the `aasp` cookie) plus the latest
 * `scnt`. A stale scnt does not count.
 */
export function requestAuthSession(env: CoreEnv, req: SimRequest): AuthSession | undefined {
  const id = header(req, "x-apple-id-session-id") ?? req.cookies.get("aasp");
  return env.world.auth.find(id, header(req, "scnt"));
}

/**
 * Headers every idmsa answer carries: a fresh scnt (the previous one stops working), the session
 * id (also as the `aasp` cookie) and, once the account is known, its country.
 */
export function idmsaHeaders(
  env: CoreEnv,
  session: AuthSession,
  extra: Record<string, string> = {},
): Record<string, string | string[]> {
  env.world.auth.touch(session);
  const headers: Record<string, string | string[]> = {
    scnt: session.scnt,
    "X-Apple-ID-Session-Id": session.id,
    "Set-Cookie": [cookieLine(env, "aasp", session.id)],
    ...extra,
  };
  if (session.account) headers["X-Apple-ID-Account-Country"] = session.account.config.country;
  return headers;
}

/**
 * Answer to an MFA call without a valid auth context (missing/stale scnt or session id, or no
 * accepted SRP proof yet). Apple's exact body here is not captured; 401 with a service error is
 * what clients treat as "sign in again" (inferred).
 */
export function noAuthContext(): SimResponse {
  return {
    status: 401,
    // "-20000" is an invented code (the real one is not captured); it is NOT the -20101 password error.
    json: { ...(serviceErrors("-20000", "Your session has expired. Please sign in again.") as object), hasError: true },
  };
}

/** An MFA route only runs inside an auth session whose SRP proof was accepted. */
export function withSrpSession(
  env: CoreEnv,
  req: SimRequest,
  run: (session: AuthSession & { account: NonNullable<AuthSession["account"]> }) => SimResponse,
): SimResponse {
  const session = requestAuthSession(env, req);
  if (!session?.srpVerified || !session.account) return noAuthContext();
  const account = session.account;
  return run(Object.assign(session, { account }));
}
