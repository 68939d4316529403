import type { SimServiceAccount, SimServiceContext } from "./context.ts";
import { type CoreEnv, isStrict } from "./core-env.ts";
import { serviceSections } from "./scenario.ts";
import { cookieValue } from "./setup-session.ts";
import type { SimAccount } from "./sim-accounts.ts";
import { WEBAUTH_TOKEN } from "./web-cookies.ts";

export function serviceAccount(account: SimAccount): SimServiceAccount {
  return {
    dsid: account.dsid,
    appleId: account.appleId,
    webAccessDisabled: account.config.web_access_disabled,
    services: serviceSections(account.config),
  };
}

/**
 * The context service modules get. `authenticate` accepts a request when its X-APPLE-WEBAUTH-TOKEN
 * cookie is a live validate token of a web session that finished 2FA/repair: the user is
 * identified by the web-auth cookies. Evidence: icloudpd `src/pyicloud_ipd/services/photos.py`
 * `PhotosService.libraries` posts `…/private/zones/list` with no query string at all, and
 * icloud-photos-sync `app/src/lib/icloud/icloud-photos/icloud-photos.ts` sends only `remapEnums`
 * (no `dsid`, no `clientId`); both work against Apple. A restricted session (2FA outstanding) is
 * refused: pyicloud/icloudpd only call services once `hsaTrustedBrowser` and no challenge remain.
 *
 * Strict only: the `dsid` query parameter must name that session's account (our client sends it,
 * as pyicloud does on most calls).
 */
export function createServiceContext(env: CoreEnv): SimServiceContext {
  return {
    clock: env.world.clock,
    origin: env.origin,
    log: env.log,
    authenticate(req) {
      const session = env.world.webSessionByValidateToken(cookieValue(req, WEBAUTH_TOKEN));
      if (!session || session.restricted) return undefined;
      if (isStrict(env, session.account) && req.url.searchParams.get("dsid") !== session.account.dsid) {
        return undefined;
      }
      return serviceAccount(session.account);
    },
    accounts: () => env.world.accounts.all().map(serviceAccount),
    advertise(provider) {
      env.webservices.push(provider);
    },
  };
}
