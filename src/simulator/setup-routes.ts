import { z } from "zod";
import { type CoreEnv, parseBody } from "./core-env.ts";
import type { Route } from "./router.ts";
import { cookieValue, MISDIRECTED, requestTrust, requestWebSession, SETUP, webSessionAnswer } from "./setup-session.ts";
import { clearedCookies, HSA_TRUST } from "./web-cookies.ts";

/**
 * accountLogin as clients send it: `dsWebAuthToken` always (pyicloud/icloudpd
 * `_authenticate_with_token`, icloud-photos-sync `setupAccount`); `accountCountryCode` may be null
 * (pyicloud sends `session.data.get("account_country")`) or missing; `trustToken` may be "" or null;
 * `extended_login` may be missing. Without a known token the answer is 421 (reference 1.10, 5).
 */
const AccountLoginBody = z.object({
  accountCountryCode: z.string().nullable().optional(),
  dsWebAuthToken: z.string().min(1),
  extended_login: z.boolean().nullable().optional(),
  trustToken: z.string().nullable().optional(),
});

const LogoutBody = z
  .object({ trustBrowser: z.boolean().optional(), allBrowsers: z.boolean().optional() })
  .nullable()
  .catch(null);

/** accountLogin, validate and logout on the setup service. */
export function setupRoutes(env: CoreEnv): Route[] {
  return [
    {
      id: "setup.accountLogin",
      method: "POST",
      path: `${SETUP}/accountLogin`,
      handle: (req) => {
        const body = parseBody(req, AccountLoginBody);
        if (!body) return MISDIRECTED;
        const token = env.world.findSessionToken(body.dsWebAuthToken);
        if (!token) return MISDIRECTED;
        const account = token.account;
        account.stats.account_logins += 1;
        const trust = requestTrust(env, req, account, body.trustToken ?? undefined);
        let session = env.world.findWebSession(token.webSessionId);
        if (!session) {
          session = env.world.newWebSession(account);
          token.webSessionId = session.id;
        }
        session.mfaDone ||= token.mfaDone;
        session.repairPending = token.repairPending;
        session.extendedLogin = body.extended_login ?? false;
        return webSessionAnswer(env, session, trust);
      },
    },
    {
      id: "setup.validate",
      method: "POST",
      path: `${SETUP}/validate`,
      handle: (req) => {
        // Any body (pyicloud/icloudpd send `null`); an invalid web session answers 421 (reference 1.12).
        const session = requestWebSession(env, req);
        if (!session) return MISDIRECTED;
        session.account.stats.validates += 1;
        const trust = requestTrust(env, req, session.account);
        return webSessionAnswer(env, session, trust);
      },
    },
    {
      id: "setup.logout",
      method: "POST",
      path: `${SETUP}/logout`,
      handle: (req) => {
        // Not signed in: 421 (icloud-photos-sync `app/src/lib/icloud/icloud.ts` `logout` expects it).
        const session = requestWebSession(env, req);
        if (!session) return MISDIRECTED;
        const body = parseBody(req, LogoutBody);
        session.account.stats.logouts += 1;
        const ended = body?.allBrowsers ? env.world.webSessionsOf(session.account) : [session];
        for (const each of ended) env.world.endWebSession(each.id);
        const trustValue = cookieValue(req, HSA_TRUST);
        if (body?.trustBrowser === false && trustValue) env.world.revokeTrustToken(trustValue);
        return {
          status: 200,
          headers: { "Set-Cookie": clearedCookies(env, req.cookies.keys()) },
          json: { success: true },
        };
      },
    },
  ];
}
