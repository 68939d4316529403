/**
 * Simulated call-history service. THIS API IS INVENTED: Apple's iCloud.com offers no call-history web
 * service (icloud-protocol.md section 4). It reuses CloudKit web-service conventions so the bridge's
 * client looks like its CloudKit clients, and real accounts simply never advertise it:
 *
 *   POST {origin}/database/1/sim.callhistory/production/private/records/query
 *        {"query":{"recordType":"CallRecordByDate","filterBy":[startRank INT64, direction STRING]},
 *         "resultsLimit":≤200,"zoneID":{"zoneName":"CallHistory"}} → {"records":[CallRecord…],"syncToken"}
 *   POST {origin}/database/1/sim.callhistory/production/private/changes/zone
 *        {"zones":[{"zoneID":{"zoneName":"CallHistory"},"syncToken"?,"resultsLimit"?}],"resultsLimit"?}
 *        → {"zones":[{"zoneID","syncToken","moreComing","records":[…]}]} or an inline zone error
 *          (`BAD_REQUEST` bad token, `ZONE_NOT_FOUND` not initialised, `RETRY_LATER`/`THROTTLED`).
 *
 * See README.md next to this file for the record fields and the scenario section.
 */
import { z } from "zod";
import type { ServiceRoutesFactory, SimServiceAccount, SimServiceContext } from "../context.ts";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { CallLog } from "./call-log.ts";
import { callRecord, ckError, decodeSyncToken, encodeSyncToken, ZONE_NAME, zoneId } from "./records.ts";
import { parseCallsScenario, type ScenarioCallInput, ScenarioCallSchema } from "./scenario.ts";

export const CALLS_DATABASE_PATH = "/database/1/sim.callhistory/production/private";
export const MAX_RESULTS = 200;

const ZoneIdSchema = z.object({ zoneName: z.string() }).loose();
const FilterSchema = z
  .object({
    fieldName: z.string(),
    comparator: z.string().optional(),
    fieldValue: z.object({ value: z.unknown() }).loose(),
  })
  .loose();
const resultsLimit = z.number().int().positive().optional();

const QueryBodySchema = z
  .object({
    query: z
      .object({ recordType: z.string(), filterBy: z.union([z.array(FilterSchema), FilterSchema]).optional() })
      .loose(),
    resultsLimit,
    zoneID: ZoneIdSchema.optional(),
  })
  .loose();

const ChangesBodySchema = z
  .object({
    zones: z
      .array(
        z
          .object({
            zoneID: ZoneIdSchema,
            syncToken: z.string().optional(),
            resultsLimit,
            desiredRecordTypes: z.array(z.string()).optional(),
          })
          .loose(),
      )
      .min(1),
    resultsLimit,
  })
  .loose();

export type ZoneFaultCode = "RETRY_LATER" | "THROTTLED" | "BAD_REQUEST" | "ZONE_NOT_FOUND";

interface ZoneFault {
  code: ZoneFaultCode;
  /** Successful changes/zone requests still let through before the fault hits. */
  skip: number;
  remaining: number;
  retryAfter: number | undefined;
}

/** What a test can do to one account's simulated call history. */
export interface CallsProbe {
  readonly log: CallLog;
  /** Adds a call now (the next changes/zone sees it); returns its uniqueId. */
  addCall(call: ScenarioCallInput): string;
  /** Answers the next changes/zone request(s) with an inline zone error, after `afterPages` good ones. */
  failChanges(code: ZoneFaultCode, options?: { afterPages?: number; times?: number; retryAfter?: number }): void;
  /** Invalidates every sync token issued so far (the next changes/zone with an old token answers BAD_REQUEST). */
  resetZone(): void;
}

/** Latest call-history world per dsid (the newest simulator wins), for tests. */
const probes = new Map<string, CallsProbe>();

export function callsProbe(dsid: string): CallsProbe {
  const probe = probes.get(dsid);
  if (probe === undefined) throw new Error(`no simulated call history for dsid ${dsid}`);
  return probe;
}

export const createCallsRoutes: ServiceRoutesFactory = (ctx: SimServiceContext): Route[] => {
  const epoch = ctx.clock.now();
  const logs = new Map<string, CallLog>();
  const faults = new Map<string, ZoneFault[]>();
  for (const account of ctx.accounts()) {
    const scenario = parseCallsScenario(account.services.calls, account.appleId);
    if (scenario === undefined) continue;
    const log = new CallLog(account.dsid, scenario, epoch);
    logs.set(account.dsid, log);
    probes.set(account.dsid, {
      log,
      addCall: (call) => log.add(ScenarioCallSchema.parse(call), ctx.clock.now()).call.uniqueId,
      failChanges: (code, options = {}) => {
        const list = faults.get(account.dsid) ?? [];
        list.push({
          code,
          skip: options.afterPages ?? 0,
          remaining: options.times ?? 1,
          retryAfter: options.retryAfter,
        });
        faults.set(account.dsid, list);
      },
      resetZone: () => log.resetZone(),
    });
  }

  /**
   * Session, web access and service checks shared by both routes. The service is invented (no Apple
   * behaviour to follow, reference 4): it reuses the CloudKit rules of the Photos routes so the same
   * client code meets the same answers.
   */
  function open(req: SimRequest): { log: CallLog; account: SimServiceAccount } | SimResponse {
    const account = ctx.authenticate(req);
    if (account === undefined) return unauthenticated(req);
    if (account.webAccessDisabled) return ckError(403, "ACCESS_DENIED", "private db access disabled for this account");
    const log = logs.get(account.dsid);
    if (log === undefined) return ckError(404, "NOT_FOUND", "no call-history service for this account");
    log.catchUp(ctx.clock.now());
    return { log, account };
  }

  function takeFault(dsid: string): ZoneFault | undefined {
    const list = faults.get(dsid) ?? [];
    const fault = list[0];
    if (fault === undefined) return undefined;
    if (fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) list.shift();
    return fault;
  }

  function query(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("log" in opened)) return opened;
    const body = parseJson(req, QueryBodySchema);
    if (body === undefined) return ckError(400, "BAD_REQUEST", "malformed records/query request");
    const { log, account } = opened;
    if ((body.zoneID?.zoneName ?? ZONE_NAME) !== ZONE_NAME || !log.initialised) {
      return ckError(404, "ZONE_NOT_FOUND", `zone '${body.zoneID?.zoneName ?? ZONE_NAME}' does not exist`);
    }
    if (body.query.recordType !== "CallRecordByDate") {
      return ckError(400, "BAD_REQUEST", `unknown record type '${body.query.recordType}'`);
    }
    const filters = [body.query.filterBy ?? []].flat();
    const startRank = filters.find((f) => f.fieldName === "startRank")?.fieldValue.value ?? 0;
    const direction = filters.find((f) => f.fieldName === "direction")?.fieldValue.value ?? "ASCENDING";
    if (typeof startRank !== "number" || !Number.isInteger(startRank) || startRank < 0) {
      return ckError(400, "BAD_REQUEST", "startRank must be a non-negative INT64");
    }
    if (direction !== "ASCENDING" && direction !== "DESCENDING") {
      return ckError(400, "BAD_REQUEST", "direction must be ASCENDING or DESCENDING");
    }
    const limit = Math.min(body.resultsLimit ?? MAX_RESULTS, MAX_RESULTS);
    const entries = log.byDate(direction === "DESCENDING", startRank, limit);
    return {
      status: 200,
      json: {
        records: entries.map((entry) => callRecord(entry, account.dsid)),
        syncToken: encodeSyncToken(log.generation, log.lastSeq),
      },
    };
  }

  function changes(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("log" in opened)) return opened;
    const body = parseJson(req, ChangesBodySchema);
    if (body === undefined) return ckError(400, "BAD_REQUEST", "malformed changes/zone request");
    const { log, account } = opened;
    const zones = body.zones.map((zone) => {
      const id = { ...zoneId(account.dsid), zoneName: zone.zoneID.zoneName };
      if (zone.zoneID.zoneName !== ZONE_NAME || !log.initialised) {
        return {
          zoneID: id,
          serverErrorCode: "ZONE_NOT_FOUND",
          reason: `zone '${zone.zoneID.zoneName}' does not exist`,
        };
      }
      const fault = takeFault(account.dsid);
      if (fault !== undefined) {
        const retry = fault.retryAfter === undefined ? {} : { retryAfter: fault.retryAfter };
        return { zoneID: id, serverErrorCode: fault.code, reason: "injected by the simulator", ...retry };
      }
      // An empty token means "caught up" (kei's notes): no records, the current token.
      const after =
        zone.syncToken === undefined ? 0 : zone.syncToken === "" ? log.lastSeq : tokenSeq(zone.syncToken, log);
      if (after === undefined) return { zoneID: id, serverErrorCode: "BAD_REQUEST", reason: "sync token is not valid" };
      const limit = Math.min(zone.resultsLimit ?? body.resultsLimit ?? MAX_RESULTS, MAX_RESULTS);
      const { entries, moreComing } = log.changesAfter(after, limit);
      const wanted = zone.desiredRecordTypes === undefined || zone.desiredRecordTypes.includes("CallRecord");
      return {
        zoneID: id,
        syncToken: encodeSyncToken(log.generation, entries.at(-1)?.seq ?? after),
        moreComing,
        records: wanted ? entries.map((entry) => callRecord(entry, account.dsid)) : [],
      };
    });
    return { status: 200, json: { zones } };
  }

  return [
    { id: "calls.query", method: "POST", path: `${CALLS_DATABASE_PATH}/records/query`, handle: query },
    { id: "calls.changes", method: "POST", path: `${CALLS_DATABASE_PATH}/changes/zone`, handle: changes },
  ];
};

function tokenSeq(token: string, log: CallLog): number | undefined {
  const decoded = decodeSyncToken(token);
  if (decoded === undefined || decoded.generation !== log.generation || decoded.seq > log.lastSeq) return undefined;
  return decoded.seq;
}

/** No web session at all → 401 AUTHENTICATION_FAILED; an expired one → 421, as CloudKit answers. */
function unauthenticated(req: SimRequest): SimResponse {
  const hasSession = [...req.cookies.keys()].some((name) => name.startsWith("X-APPLE-WEBAUTH-"));
  if (!hasSession) return ckError(401, "AUTHENTICATION_FAILED", "request has no iCloud web session");
  return { status: 421, json: { reason: "Invalid global session", error: 2 } };
}

/** Bodies come as `application/json` or `text/plain` JSON (CloudKit accepts both). */
function parseJson<T>(req: SimRequest, schema: z.ZodType<T>): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(req.body.toString("utf8"));
  } catch {
    return undefined;
  }
  const result = schema.safeParse(raw);
  return result.success ? result.data : undefined;
}
