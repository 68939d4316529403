import { z } from "zod";
import type { CoreEnv } from "./core-env.ts";
import { parseBody } from "./core-env.ts";
import { msOrDuration } from "./duration.ts";
import { FaultSpecSchema } from "./fault-spec.ts";
import type { FaultStore } from "./faults.ts";
import type { Route, SimRequest, SimResponse } from "./router.ts";
import type { SimAccount } from "./sim-accounts.ts";

/** One handled request, without bodies or headers. */
export interface RequestRecord {
  /** Increases by one per request, also past the log's size limit (the oldest records are dropped). */
  seq: number;
  at: string;
  method: string;
  path: string;
  route: string | null;
  status: number | "reset" | "hang";
}

export const ADMIN_PREFIX = "/__sim/";

const ClockBody = z.object({ advance: msOrDuration });
const ExpireBody = z.object({ what: z.enum(["validate_token", "web_session", "trust", "session_token"]) });
const FaultsBody = z.union([FaultSpecSchema, z.array(FaultSpecSchema)]);
const ACCOUNT = /^\/__sim\/accounts\/(?<appleId>[^/]+)\/(?<what>code|stats|expire)$/;

/** The simulator's own admin API (not an Apple path): faults, clock, codes, stats, request log. */
export function adminRoutes(env: CoreEnv, faults: FaultStore, requests: () => RequestRecord[]): Route[] {
  const invalid = (message: string): SimResponse => ({ status: 400, json: { error: message } });
  const withAccount = (req: SimRequest, run: (account: SimAccount) => SimResponse): SimResponse => {
    let appleId: string;
    try {
      appleId = decodeURIComponent(req.params["appleId"] ?? "");
    } catch {
      return invalid("bad apple_id");
    }
    const account = env.world.accounts.byAppleId(appleId);
    return account ? run(account) : { status: 404, json: { error: "no such account" } };
  };
  return [
    {
      id: "admin.faults.add",
      method: "POST",
      path: "/__sim/faults",
      handle: (req) => {
        const body = parseBody(req, FaultsBody);
        if (!body) return invalid("expected a fault {endpoint, kind, ...} or a list of them");
        const added = (Array.isArray(body) ? body : [body]).map((spec) => faults.add(spec));
        return { status: 201, json: Array.isArray(body) ? { faults: added } : added[0] };
      },
    },
    {
      id: "admin.faults.list",
      method: "GET",
      path: "/__sim/faults",
      handle: () => ({ status: 200, json: { faults: faults.list() } }),
    },
    {
      id: "admin.faults.clear",
      method: "DELETE",
      path: "/__sim/faults",
      handle: () => {
        faults.clear();
        return { status: 204 };
      },
    },
    {
      id: "admin.clock",
      method: "POST",
      path: "/__sim/clock",
      handle: (req) => {
        const body = parseBody(req, ClockBody);
        if (!body) return invalid('expected {"advance": "31d" | milliseconds}');
        env.world.clock.advance(body.advance);
        return { status: 200, json: { now: new Date(env.world.clock.now()).toISOString() } };
      },
    },
    {
      id: "admin.requests",
      method: "GET",
      path: "/__sim/requests",
      handle: () => ({ status: 200, json: { requests: requests() } }),
    },
    {
      id: "admin.account",
      method: ["GET", "POST"],
      path: ACCOUNT,
      handle: (req) =>
        withAccount(req, (account) => {
          const what = req.params["what"];
          if (what === "code" && req.method === "GET") {
            return account.lastShown
              ? { status: 200, json: account.lastShown }
              : { status: 404, json: { error: "no code shown" } };
          }
          if (what === "stats" && req.method === "GET") return { status: 200, json: account.stats };
          if (what === "expire" && req.method === "POST") {
            const body = parseBody(req, ExpireBody);
            if (!body) return invalid('expected {"what": "validate_token"|"web_session"|"trust"|"session_token"}');
            env.world.expire(account, body.what);
            return { status: 204 };
          }
          return { status: 404, json: { error: "not found" } };
        }),
    },
  ];
}
