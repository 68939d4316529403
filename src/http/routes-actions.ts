import { toEngineError } from "../errors.ts";
import type { Routes, Services } from "./context.ts";
import { resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { message } from "./respond.ts";

const BUSY = "Cannot perform action while sync is in progress";

/**
 * `POST /api/sync` and `POST /api/reauthenticate`: accepted only while the account is
 * `ready` (412 when running or blocked); they answer at once and run in the background,
 * failures are logged and show up in the account's state.
 */
export function actionRoutes(s: Services): Routes {
  const trigger = (command: "sync" | "reauthenticate", account: string): void => {
    s.api.execute(command, { account }).catch((error: unknown) => {
      const e = toEngineError(error);
      s.logger.warn(`${command} requested over HTTP failed`, { account, code: e.code, error: e.message });
    });
  };
  const requireReady = (account: string): void => {
    if (s.api.snapshot(account).state.state !== "ready") throw new HttpError(412, BUSY);
  };
  return {
    "/api/sync": {
      POST: ({ query }) => {
        const account = resolveAccount(s.api, query);
        requireReady(account);
        trigger("sync", account);
        return message(200, "Sync requested");
      },
    },
    "/api/reauthenticate": {
      POST: ({ query }) => {
        const account = resolveAccount(s.api, query);
        requireReady(account);
        trigger("reauthenticate", account);
        return message(200, "Reauthentication requested");
      },
    },
  };
}
