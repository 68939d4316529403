import type { SimServiceAccount, SimServiceContext } from "./context.ts";
import type { CoreEnv } from "./core-env.ts";
import { cookieValue } from "./setup-session.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { WEBAUTH_TOKEN } from "./web-cookies.ts";

export function serviceAccount(account: SimAccount): SimServiceAccount {
  const { findmy, photos, calls } = account.config;
  return {
    dsid: account.dsid,
    appleId: account.appleId,
    webAccessDisabled: account.config.web_access_disabled,
    services: {
      ...(findmy === undefined ? {} : { findmy }),
      ...(photos === undefined ? {} : { photos }),
      ...(calls === undefined ? {} : { calls }),
    },
  };
}

/**
 * The context service modules get. `authenticate` accepts a request when its X-APPLE-WEBAUTH-TOKEN
 * cookie is a live validate token of a web session that finished 2FA/repair, and its `dsid` query
 * parameter names that session's account.
 */
export function createServiceContext(env: CoreEnv): SimServiceContext {
  return {
    clock: env.world.clock,
    origin: env.origin,
    log: env.log,
    authenticate(req) {
      const session = env.world.webSessionByValidateToken(cookieValue(req, WEBAUTH_TOKEN));
      if (!session || session.restricted) return undefined;
      if (req.url.searchParams.get("dsid") !== session.account.dsid) return undefined;
      return serviceAccount(session.account);
    },
    accounts: () => env.world.accounts.all().map(serviceAccount),
  };
}
