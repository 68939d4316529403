import { z } from "zod";
import type { Routes, Services } from "./context.ts";
import { resolveAccount } from "./context.ts";
import { HttpError } from "./http-errors.ts";
import { json } from "./respond.ts";

const LogLevelSchema = z.enum(["debug", "info", "warn", "error"]);

/**
 * Read-only endpoints. `/api/log` deviates from icloud-photos-sync on purpose: a missing
 * `loglevel` means `info` (the original answered `[]`), an unknown one is a 400.
 */
export function stateRoutes(s: Services): Routes {
  return {
    "/api/state": {
      GET: ({ query }) => json(200, s.api.snapshot(resolveAccount(s.api, query)).state),
    },
    "/api/accounts": {
      GET: () =>
        json(
          200,
          s.api.accounts().map(({ id, services }) => {
            const { state } = s.api.snapshot(id);
            return { id, services, state: state.state, progressMsg: state.progressMsg, session: state.session.state };
          }),
        ),
    },
    "/api/log": {
      GET: ({ query }) => {
        const raw = query.get("loglevel");
        const level = LogLevelSchema.safeParse(raw ?? "info");
        if (!level.success) throw new HttpError(400, "Unknown log level; expecting debug, info, warn or error");
        const account = resolveAccount(s.api, query);
        return json(
          200,
          s.api
            .logs(account, level.data)
            .map(({ level: l, time, source, message }) => ({ level: l, time, source, message })),
        );
      },
    },
    "/api/health": {
      GET: ({ authorized }) => {
        if (!authorized) return json(200, { status: "ok" });
        try {
          const accounts = s.api.accounts().map(({ id }) => {
            const { state } = s.api.snapshot(id);
            return { id, state: state.state, session: state.session.state };
          });
          return json(200, { status: "ok", version: s.api.version, accounts });
        } catch (error) {
          s.logger.warn("health check failed", { error: error instanceof Error ? error.message : String(error) });
          return json(503, { status: "error" });
        }
      },
    },
  };
}
