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
 * Makes a route answer `widgetKeyRefused()` unless `X-Apple-Widget-Key` is iCloud.com's key (both
 * modes). Evidence: every public client sends it on every idmsa JSON call (timlaing/pyicloud
 * `pyicloud/base.py` `_get_auth_headers`; steilerDev/icloud-photos-sync
 * `app/src/lib/resources/network-manager.ts` `HeaderJar`), and icloudpd's hand-built MFA requests
 * (`src/pyicloud_ipd/sms.py` `_oauth_const_headers`), which drop Accept, Origin, User-Agent and the
 * cookies, still keep it. Nothing else is checked: pyicloud sends `X-Apple-FD-Client-Info` under the
 * wrong name and icloudpd's MFA requests carry no Origin/Referer/Accept, and both work against Apple.
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
 * The auth session a request names.
 *
 * Lenient (default): `X-Apple-ID-Session-Id`, else the `aasp` cookie, names a live auth context;
 * `scnt` is not checked. Evidence that Apple accepts this:
 * - icloud-photos-downloader/icloud_photos_downloader `src/pyicloud_ipd/base.py` + `sms.py` build
 *   `GET /appleauth/auth`, `PUT /verify/phone` and `POST /verify/phone/securitycode` outside their
 *   requests session (`Request(...).prepare()` + `session.send`): no cookies at all, and the scnt
 *   stored *before* these calls (their answers never update it), so every later call (including
 *   `GET /2sv/trust` through the session) carries an scnt that is no longer the newest.
 * - steilerDev/icloud-photos-sync `app/src/lib/resources/network-manager.ts` (2024–25) sends the
 *   *session token* as `X-Apple-ID-Session-Id` and relies on the `aasp` cookie; the header names no
 *   auth context there, so the cookie is tried next.
 * - timlaing/pyicloud `pyicloud/base.py` sends `signin/complete` with the headers built before
 *   `signin/init` (no scnt, no session id on a first sign-in): see `signinComplete`.
 * No public client is known to send an scnt Apple never issued, and Apple's reaction to one is not
 * recorded; ignoring scnt is the simulator's (lenient) choice.
 *
 * Strict (opt-in, `strict: true`): `X-Apple-ID-Session-Id` (or `aasp`) plus the *latest* scnt, as
 * our own client echoes them; an older scnt does not count.
 */
export function requestAuthSession(env: CoreEnv, req: SimRequest): AuthSession | undefined {
  const named = header(req, "x-apple-id-session-id");
  const cookie = req.cookies.get("aasp");
  if (env.scenario.strict) {
    const session = strictAuthSession(env, req);
    // An account switched back to lenient accepts its context however named.
    return session ?? lenientUnlessStrictAccount(env, named, cookie);
  }
  for (const id of [named, cookie]) {
    const session = env.world.auth.live(id);
    if (!session) continue;
    if (session.account?.config.strict === true) return strictAuthSession(env, req);
    return session;
  }
  return undefined;
}

/** The strict lookup: `X-Apple-ID-Session-Id` (else `aasp`) with the latest scnt of that context. */
export function strictAuthSession(env: CoreEnv, req: SimRequest): AuthSession | undefined {
  return env.world.auth.find(header(req, "x-apple-id-session-id") ?? req.cookies.get("aasp"), header(req, "scnt"));
}

function lenientUnlessStrictAccount(
  env: CoreEnv,
  named: string | undefined,
  cookie: string | undefined,
): AuthSession | undefined {
  for (const id of [named, cookie]) {
    const session = env.world.auth.live(id);
    if (session?.account && session.account.config.strict === false) return session;
  }
  return undefined;
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
 * Answer to an MFA call without a live auth context (neither `X-Apple-ID-Session-Id` nor `aasp`
 * names one, it idled out, the SRP proof was not accepted yet, or, strict only, a stale scnt).
 * Every public client sends one of the two after `signin/complete` (see `requestAuthSession`), so
 * this only hits requests no client sends. Apple's exact body here is not captured; 401 with a
 * service error is what clients treat as "sign in again" (inferred).
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
