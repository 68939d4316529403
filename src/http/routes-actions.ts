import { toEngineError } from "../errors.ts";
import type { Routes, Services } from "./context.ts";
import { resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { message } from "./respond.ts";

const BUSY = "Cannot perform action while sync is in progress";

const STARTED = Symbol("started");

/**
 * `POST /api/sync` and `POST /api/reauthenticate`: accepted only while the account is
 * `ready` (412 when running or blocked); they answer once the engine took the command and run
 * in the background: a refusal the engine gives at once (a budget used up: 429 with
 * Retry-After) is the answer, later failures are logged and show up in the account's state.
 */
export function actionRoutes(s: Services): Routes {
  const trigger = async (command: "sync" | "reauthenticate", account: string): Promise<void> => {
    const run = s.api.execute(command, { account });
    // Refusals before any I/O settle before the next macrotask; the work itself goes on after the answer.
    const early = await Promise.race([
      run.then(
        () => STARTED,
        (error: unknown) => error,
      ),
      new Promise((resolve) => setImmediate(() => resolve(STARTED))),
    ]);
    if (early !== STARTED) throw early;
    run.catch((error: unknown) => {
      const e = toEngineError(error);
      s.logger.warn(`${command} requested over HTTP failed`, { account, code: e.code, error: e.message });
    });
  };
  const requireReady = (account: string): void => {
    if (s.api.snapshot(account).state.state !== "ready") throw new HttpError(412, BUSY);
  };
  return {
    "/api/sync": {
      POST: async ({ query }) => {
        const account = resolveAccount(s.api, query);
        requireReady(account);
        await trigger("sync", account);
        return message(200, "Sync requested");
      },
    },
    "/api/reauthenticate": {
      POST: async ({ query }) => {
        const account = resolveAccount(s.api, query);
        requireReady(account);
        await trigger("reauthenticate", account);
        return message(200, "Reauthentication requested");
      },
    },
  };
}
