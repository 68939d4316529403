import { type CoreEnv, cookieLine, header } from "./core-env.ts";
import type { Route, SimRequest, SimResponse } from "./router.ts";
import type { AuthSession } from "./world.ts";

/**
 * iCloud.com's OAuth widget key (protocol reference 1.2). Kept here rather than imported from the
 * client (`src/icloud/endpoints.ts` has the same value) so the simulator stays an independent
 * implementation of the protocol: a typo on either side makes the tests fail.
 */
export const ICLOUD_WIDGET_KEY = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";

/**
 * Answer to an idmsa JSON call without iCloud.com's `X-Apple-Widget-Key`. The reference does not
 * record Apple's exact answer; 401 with an (invented) service error is the simulator's choice. No
 * auth session is touched (no scnt rotates), so the answer carries no session headers.
 */
export function widgetKeyRefused(): SimResponse {
  return {
    status: 401,
    json: {
      ...(serviceErrors("-20000", "Missing or unknown X-Apple-Widget-Key: this client may not sign in.") as object),
      hasError: true,
    },
  };
}

/**
 * Makes a route answer `widgetKeyRefused()` unless `X-Apple-Widget-Key` is iCloud.com's key. Only
 * the widget key is checked: the reference says Apple does not require `X-Apple-Domain-Id`,
 * `X-Requested-With`, `X-APPLE-HC`, `X-Apple-I-FD-Client-Info` or a particular Origin/Referer, and
 * it does not say what happens without the other OAuth headers.
 */
export function requireWidgetKey(route: Route): Route {
  return {
    ...route,
    handle: (req) => (header(req, "x-apple-widget-key") === ICLOUD_WIDGET_KEY ? route.handle(req) : widgetKeyRefused()),
  };
}

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
 * Code limits (the simulator's choice; Apple's codes and statuses for these cases are not captured).
 * Both answers are 400 with `X-Apple-I-Ercd` set to an invented code, the service error, and the
 * `securityCode` flags Apple's state objects carry (reference 1.8.1) set to true.
 */
export const CODE_LOCKED_ERROR = "-21690";
export const TOO_MANY_CODES_SENT_ERROR = "-21691";

export function codeLockedBody(state: Record<string, unknown>): Record<string, unknown> {
  return {
    service_errors: [
      {
        code: CODE_LOCKED_ERROR,
        title: "Too Many Attempts",
        message: "Too many incorrect verification codes were entered. Try again later.",
        suppressDismissal: false,
      },
    ],
    hasError: true,
    ...state,
  };
}

export function tooManyCodesSentBody(state: Record<string, unknown>): Record<string, unknown> {
  return {
    service_errors: [
      {
        code: TOO_MANY_CODES_SENT_ERROR,
        title: "Too Many Codes Sent",
        message: "Too many verification codes have been sent. Enter the last code you received or try again later.",
        suppressDismissal: false,
      },
    ],
    hasError: true,
    ...state,
  };
}

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
