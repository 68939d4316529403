import { z } from "zod";
import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import { cloudKitError, ServerErrorSchema, type ServerErrorWording } from "../cloudkit/server-error.ts";
import type { ServiceTransport } from "../service-transport.ts";
import { ChangesResponseSchema, callFromRecord, QueryResponseSchema, type WireRecord } from "./cloud-records.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  type CallkitCall,
  type CallListOptions,
  type CallsSource,
  DEFAULT_CALL_LIMIT,
  INITIAL_HISTORY_LIMIT,
  type NewCallsResult,
} from "./types.ts";

/** Path of the (invented) call-history database on the `callhistory` webservice. */
const DATABASE = "/database/1/sim.callhistory/production/private";
const ZONE = { zoneName: "CallHistory" };
const PAGE_SIZE = 200;
/** Guards against a service that keeps saying moreComing. */
const MAX_PAGES = 1000;

export const NO_CALL_SERVICE_MESSAGE =
  "iCloud offers no call-history web service for this account (Apple's iCloud.com has none); call history is " +
  "available from the simulator or from a macOS CallHistory database (calls.source: macos)";

/** ricloud's fix for `callkit-uninitialised`. */
export const CALLKIT_UNINITIALISED_MESSAGE =
  "Call history (CallKit) has not been set up for this iCloud account. On an iPhone signed in to it: connect to " +
  "Wi-Fi, open Settings > [your name] > iCloud, turn iCloud Drive off, wait 30 to 60 seconds, then turn it on " +
  "again; this triggers initialisation.";

/** Cursor: the zone's sync token plus the newest call date seen (Unix ms), used when the token is rejected. */
const CursorSchema = z.object({ k: z.literal("cloud"), token: z.string().min(1), date: z.number() });

interface Feed {
  /** Oldest first, each id once. */
  calls: CallkitCall[];
  token: string;
}

/**
 * Call history from the `callhistory` webservice (offered by the simulator only). New calls come from
 * `changes/zone` with the stored sync token; the cursor only moves when every page was read. Call
 * records are never modified, so each appears once in the change feed: a resumed feed repeats nothing.
 * When the service rejects the stored token, the zone is read again from its start and only calls
 * newer than the newest one seen are returned (a call synced late with an older date is then lost).
 */
export class CloudCallsSource implements CallsSource {
  readonly kind = "cloud";
  readonly #transport: ServiceTransport;
  readonly #log: Logger;

  constructor(transport: ServiceTransport, options: { log?: Logger } = {}) {
    this.#transport = transport;
    this.#log = (options.log ?? silentLogger).child({ source: "calls.cloud" });
  }

  async calls(options: CallListOptions = {}): Promise<CallkitCall[]> {
    const limit = options.limit ?? DEFAULT_CALL_LIMIT;
    const since = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
    const calls: CallkitCall[] = [];
    for (let startRank = 0; calls.length < limit; ) {
      const size = Math.min(PAGE_SIZE, limit - calls.length);
      const page = await this.#post("/records/query", QueryResponseSchema, {
        query: {
          recordType: "CallRecordByDate",
          filterBy: [
            { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: startRank } },
            { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "DESCENDING" } },
          ],
        },
        resultsLimit: size,
        zoneID: ZONE,
      });
      const pageCalls = this.#toCalls(page.records);
      const recent = pageCalls.filter((call) => Date.parse(call.date) > since);
      calls.push(...recent);
      if (page.records.length < size || recent.length < pageCalls.length) break;
      startRank += page.records.length;
    }
    return calls.slice(0, limit);
  }

  async newCalls(cursor: string | undefined): Promise<NewCallsResult> {
    const previous = cursor === undefined ? undefined : decodeCursor(cursor, CursorSchema);
    const resumed = previous === undefined ? undefined : await this.#readFeed(previous.token);
    let feed: Feed;
    let calls: CallkitCall[];
    if (resumed !== undefined) {
      feed = resumed;
      calls = resumed.calls;
    } else {
      // No cursor yet, or the stored token was rejected (BAD_REQUEST): read the zone from its beginning.
      if (previous !== undefined) this.#log.warn("call-history sync token was rejected; re-reading the zone");
      const full = await this.#readFeed(undefined);
      if (full === undefined)
        throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone rejected a request without token");
      feed = full;
      calls =
        previous === undefined
          ? full.calls.slice(-INITIAL_HISTORY_LIMIT)
          : full.calls.filter((call) => Date.parse(call.date) > previous.date);
    }
    const newest = feed.calls.reduce((max, call) => Math.max(max, Date.parse(call.date)), previous?.date ?? 0);
    this.#log.debug("read new calls", { count: calls.length });
    return { calls, cursor: encodeCursor({ k: "cloud", token: feed.token, date: newest }) };
  }

  /**
   * Walks changes/zone from `token` (the zone's beginning when undefined) until moreComing is false and
   * returns the calls oldest first; undefined when the service rejected `token` (BAD_REQUEST).
   * Throws on any other failure, so a caller never stores a token past a page it did not read.
   */
  async #readFeed(token: string | undefined): Promise<Feed | undefined> {
    const byId = new Map<string, CallkitCall>();
    let current = token;
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw new EngineError("UNEXPECTED_RESPONSE", "call-history changes never finished");
      const response = await this.#post("/changes/zone", ChangesResponseSchema, {
        zones: [{ zoneID: ZONE, ...(current === undefined ? {} : { syncToken: current }) }],
        resultsLimit: PAGE_SIZE,
      });
      const [zone] = response.zones;
      if (zone === undefined) throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone answered no zone");
      if (zone.serverErrorCode === "BAD_REQUEST" && pages === 0 && token !== undefined) return undefined;
      if (zone.serverErrorCode !== undefined) throw serverError(zone);
      if (zone.syncToken === undefined)
        throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone answered no sync token");
      for (const call of this.#toCalls(zone.records)) byId.set(call.id, call);
      current = zone.syncToken;
      if (!zone.moreComing) break;
    }
    const calls = [...byId.values()].sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
    return { calls, token: current };
  }

  #toCalls(records: readonly WireRecord[]): CallkitCall[] {
    const calls: CallkitCall[] = [];
    for (const record of records) {
      try {
        const call = callFromRecord(record);
        if (call !== undefined) calls.push(call);
      } catch {
        this.#log.warn("skipping unreadable call record", { record: record.recordName });
      }
    }
    return calls;
  }

  async #post<S extends z.ZodType>(path: string, schema: S, body: unknown): Promise<z.infer<S>> {
    if (this.#transport.serviceUrl("callhistory") === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", NO_CALL_SERVICE_MESSAGE);
    }
    const response = await this.#transport.request("callhistory", `${DATABASE}${path}`, {
      method: "POST",
      body,
      contentType: "text/plain",
    });
    const error = ServerErrorSchema.safeParse(response.json);
    if (error.success) throw serverError(error.data, response.status);
    if (response.status === 401 || response.status === 421) {
      throw new EngineError(
        "SESSION_EXPIRED",
        `call-history service still answers ${response.status} after re-authentication`,
      );
    }
    if (response.status === 429) throw new EngineError("RATE_LIMITED", "call-history service rate limit (429)");
    if (response.status === 503) throw new EngineError("SERVICE_UNAVAILABLE", "call-history service unavailable (503)");
    if (response.status < 200 || response.status >= 300) {
      throw new EngineError("UNEXPECTED_RESPONSE", `call-history ${path} answered HTTP ${response.status}`, {
        info: { status: response.status },
      });
    }
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      throw new EngineError("UNEXPECTED_RESPONSE", `call-history ${path} answered an unexpected body`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }
}

/** How the call-history service words CloudKit's errors. */
const CALLS_ERRORS: ServerErrorWording = {
  service: "call-history service",
  accessDenied:
    "iCloud refused access to call history (ACCESS_DENIED): turn on Access iCloud Data on the Web and turn off Advanced Data Protection",
  zoneNotFound: { code: "CALLKIT_UNINITIALISED", message: CALLKIT_UNINITIALISED_MESSAGE },
};

function serverError(error: { serverErrorCode?: string; reason?: string; retryAfter?: number }, status?: number) {
  return cloudKitError(error, CALLS_ERRORS, status);
}
