/** Shared plumbing of the CloudKit routes: auth, body parsing, error bodies, zone ids. */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import type { AccountLibrary, Database } from "./account-library.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export const MAX_RESULTS = 200;

export const zoneIdSchema = z
  .object({ zoneName: z.string(), ownerRecordName: z.string().optional(), zoneType: z.string().optional() })
  .passthrough();
export type ZoneIdInput = z.infer<typeof zoneIdSchema>;

export interface CloudKitCall<B> {
  req: SimRequest;
  database: Database;
  library: AccountLibrary;
  dsid: string;
  body: B;
  now: number;
  /** `getCurrentSyncToken=True|true` was sent. */
  wantsSyncToken: boolean;
}

export function ckError(status: number, serverErrorCode: string, reason: string): SimResponse {
  return { status, json: { uuid: randomUUID(), serverErrorCode, reason } };
}

/** CloudKit's HTTP status for a request-level serverErrorCode (per its web services error table). */
export function statusFor(code: string): number {
  const table: Record<string, number> = {
    BAD_REQUEST: 400,
    AUTHENTICATION_FAILED: 401,
    ACCESS_DENIED: 403,
    NOT_FOUND: 404,
    ZONE_NOT_FOUND: 404,
    THROTTLED: 503,
    TRY_AGAIN_LATER: 503,
    RETRY_LATER: 503,
    INTERNAL_ERROR: 500,
  };
  return table[code] ?? 400;
}

export function isTrue(value: string | null): boolean {
  return value !== null && value.toLowerCase() === "true";
}

/** The zone named in a request, or undefined when the database has no such zone. */
export function resolveZone(
  library: AccountLibrary,
  database: Database,
  zoneId: ZoneIdInput | undefined,
): ZoneLibrary | undefined {
  const zone = library.findZone(database, zoneId?.zoneName ?? "_defaultZone");
  if (!zone) return undefined;
  if (zoneId?.ownerRecordName !== undefined && zoneId.ownerRecordName !== zone.zone.ownerRecordName) return undefined;
  return zone;
}

/** A zone the account does not have: CloudKit's ZONE_NOT_FOUND (reference 3.8; clients read it as "Photos not set up"). */
export function zoneNotFound(zoneId: ZoneIdInput | undefined): SimResponse {
  return ckError(404, "ZONE_NOT_FOUND", `Zone '${zoneId?.zoneName ?? "_defaultZone"}' does not exist`);
}

const BASE = "/database/1/com\\.apple\\.photos\\.cloud/production/(?<db>private|shared)";

/**
 * A CloudKit POST route: checks the web session (401 "Invalid global session", what icloudpd and
 * icloud.js#30 see once it expired, reference 3.8; identified by cookies only, see
 * `createServiceContext`), web access (403 ACCESS_DENIED, reference 3.8) and the JSON body. The body
 * may come as text/plain (pyicloud/icloudpd) or application/json (icloud-photos-sync), and any query
 * string (none at all for icloudpd's `zones/list`) is accepted; an empty body counts as `{}`.
 * A body that is not JSON, or lacks what the route needs, gets CloudKit's BAD_REQUEST: no client
 * sends one.
 */
export function cloudKitRoute<S extends z.ZodType>(
  sim: PhotosSimulator,
  id: string,
  suffix: string,
  schema: S,
  handle: (call: CloudKitCall<z.infer<S>>) => SimResponse,
): Route {
  return {
    id,
    method: "POST",
    path: new RegExp(`^${BASE}/${suffix.replaceAll("/", "\\/")}$`),
    handle(req: SimRequest): SimResponse {
      const account = sim.ctx.authenticate(req);
      if (!account) return { status: 401, json: { reason: "Invalid global session", error: 2 } };
      if (account.webAccessDisabled) {
        return ckError(403, "ACCESS_DENIED", "private db access disabled for this account");
      }
      let raw: unknown = {};
      const text = req.body.toString("utf8").trim();
      if (text !== "") {
        try {
          raw = JSON.parse(text);
        } catch {
          return ckError(400, "BAD_REQUEST", "Request body is not valid JSON");
        }
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        return ckError(400, "BAD_REQUEST", `Invalid request: ${parsed.error.issues[0]?.message ?? "malformed"}`);
      const library = sim.library(account.dsid);
      // No Photos library for this account (no `photos:` section): AUTHENTICATION_FAILED, which
      // pyicloud/icloudpd `session.py` read as "finish setting up iCloud" (reference 3.8).
      if (!library) return ckError(401, "AUTHENTICATION_FAILED", "no auth method found");
      return handle({
        req,
        database: req.params.db === "shared" ? "shared" : "private",
        library,
        dsid: account.dsid,
        body: parsed.data,
        now: sim.ctx.clock.now(),
        wantsSyncToken: isTrue(req.url.searchParams.get("getCurrentSyncToken")),
      });
    },
  };
}
