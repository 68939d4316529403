import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import { callsProbe, createCallsRoutes } from "../../src/simulator/calls/routes.ts";
import type { SimClock, SimServiceAccount, SimServiceContext } from "../../src/simulator/context.ts";
import type { Route, SimRequest, SimResponse } from "../../src/simulator/router.ts";

/** Route-level tests with a stub service context; the end-to-end tests use the real simulator core. */

const BASE = "/database/1/sim.callhistory/production/private";
const START = Date.parse("2025-06-01T08:00:00.000Z");

function setup(calls: Record<string, unknown> | undefined, extra: Partial<SimServiceAccount> = {}) {
  let now = START;
  const clock: SimClock = {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
  const account: SimServiceAccount = {
    dsid: `9${Math.floor(Math.random() * 1e9)}`,
    appleId: "calls@example.com",
    webAccessDisabled: false,
    services: { calls },
    ...extra,
  };
  const ctx: SimServiceContext = {
    clock,
    origin: () => "http://127.0.0.1:1",
    log: silentLogger,
    authenticate: (req) => (req.cookies.has("X-APPLE-WEBAUTH-TOKEN") ? account : undefined),
    accounts: () => [account],
  };
  const routes = createCallsRoutes(ctx);
  const call = async (id: string, body: unknown, cookies = true): Promise<SimResponse> => {
    const route = routes.find((r: Route) => r.id === id);
    if (!route || typeof route.path !== "string") throw new Error(`no route ${id}`);
    const req: SimRequest = {
      method: "POST",
      url: new URL(`http://127.0.0.1:1${route.path}`),
      headers: {},
      body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
      cookies: new Map(cookies ? [["X-APPLE-WEBAUTH-TOKEN", '"v=2:t=x"']] : []),
      params: {},
    };
    return route.handle(req);
  };
  return { clock, account, call, routes };
}

type Json = Record<string, unknown> & {
  zones?: Array<Record<string, unknown> & { records?: Array<Record<string, unknown>> }>;
  records?: Array<Record<string, unknown> & { fields: Record<string, { value: unknown; type: string }> }>;
};
const json = (res: SimResponse) => res.json as Json;
const changes = (syncToken?: string, resultsLimit?: number) => ({
  zones: [{ zoneID: { zoneName: "CallHistory" }, ...(syncToken === undefined ? {} : { syncToken }) }],
  ...(resultsLimit === undefined ? {} : { resultsLimit }),
});

describe("simulated call-history service", () => {
  it("serves the two route ids on the invented CloudKit-style paths", () => {
    const { routes } = setup({ initialised: true });
    expect(routes.map((r) => [r.id, r.path])).toEqual([
      ["calls.query", `${BASE}/records/query`],
      ["calls.changes", `${BASE}/changes/zone`],
    ]);
  });

  it("returns scenario history as CallRecords in the CloudKit envelope, newest first on DESCENDING", async () => {
    const { call } = setup({
      history: [
        {
          id: "A",
          address: "+12125550101",
          name: "Ann",
          date: "2025-05-01T10:00:00Z",
          duration: 42,
          direction: "incoming",
        },
        {
          id: "B",
          address: "bob@example.com",
          date: "2025-05-02T10:00:00Z",
          direction: "outgoing",
          answered: false,
          call_type: "facetime_video",
        },
      ],
    });
    const res = await call("calls.query", {
      query: {
        recordType: "CallRecordByDate",
        filterBy: [
          { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: 0 } },
          { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "DESCENDING" } },
        ],
      },
      resultsLimit: 10,
      zoneID: { zoneName: "CallHistory" },
    });
    expect(res.status).toBe(200);
    const records = json(res).records ?? [];
    expect(records.map((r) => r["recordName"])).toEqual(["B", "A"]);
    expect(records[1]).toMatchObject({
      recordType: "CallRecord",
      recordChangeTag: expect.any(String),
      deleted: false,
      zoneID: { zoneName: "CallHistory", zoneType: "REGULAR_CUSTOM_ZONE" },
      fields: {
        uniqueId: { value: "A", type: "STRING" },
        address: { value: "+12125550101", type: "STRING" },
        name: { value: "Ann", type: "STRING" },
        date: { value: Date.parse("2025-05-01T10:00:00Z"), type: "TIMESTAMP" },
        duration: { value: 42, type: "DOUBLE" },
        originated: { value: 0, type: "INT64" },
        answered: { value: 1, type: "INT64" },
        callType: { value: "phone", type: "STRING" },
        serviceProvider: { value: "com.apple.Telephony", type: "STRING" },
        isoCountryCode: { value: "us", type: "STRING" },
      },
    });
    expect(records[0]?.fields).toMatchObject({ callType: { value: "facetimeVideo" }, originated: { value: 1 } });
    expect(records[0]?.fields["name"]).toBeUndefined();
  });

  it("generates the same calls for the same seed and pages changes/zone with monotonic tokens", async () => {
    const a = setup({ generate: { count: 25, seed: 7 } });
    const b = setup({ generate: { count: 25, seed: 7 } }, { dsid: a.account.dsid });
    const first = json(await a.call("calls.changes", changes(undefined, 10))).zones?.[0];
    const again = json(await b.call("calls.changes", changes(undefined, 10))).zones?.[0];
    expect(first?.records).toEqual(again?.records);
    expect(first).toMatchObject({ moreComing: true });
    expect(first?.records).toHaveLength(10);
    const second = json(await a.call("calls.changes", changes(first?.["syncToken"] as string, 10))).zones?.[0];
    const third = json(await a.call("calls.changes", changes(second?.["syncToken"] as string, 10))).zones?.[0];
    expect(third).toMatchObject({ moreComing: false });
    const names = [first, second, third].flatMap((zone) => zone?.records?.map((r) => r["recordName"]) ?? []);
    expect(new Set(names).size).toBe(25);
    const tail = json(await a.call("calls.changes", changes(third?.["syncToken"] as string))).zones?.[0];
    expect(tail).toMatchObject({ moreComing: false, records: [], syncToken: third?.["syncToken"] });
  });

  it("adds a call each time the clock passes new_call_every, and at run time via the probe", async () => {
    const { call, clock, account } = setup({ new_call_every: "10m" });
    const start = json(await call("calls.changes", changes())).zones?.[0];
    expect(start?.records).toEqual([]);
    clock.advance(25 * 60_000);
    const later = json(await call("calls.changes", changes(start?.["syncToken"] as string))).zones?.[0];
    expect(later?.records?.map((r) => (r["fields"] as Record<string, { value: unknown }>)["date"]?.value)).toEqual([
      START + 10 * 60_000,
      START + 20 * 60_000,
    ]);
    callsProbe(account.dsid).addCall({
      id: "X",
      address: "+1",
      date: "2025-06-01T08:26:00Z",
      direction: "incoming",
    });
    const added = json(await call("calls.changes", changes(later?.["syncToken"] as string))).zones?.[0];
    expect(added?.records?.map((r) => r["recordName"])).toEqual(["X"]);
  });

  it("answers zone errors inline: bad token, reset zone, injected RETRY_LATER, not initialised", async () => {
    const { call, account } = setup({ generate: { count: 3 } });
    expect(json(await call("calls.changes", changes("garbage"))).zones?.[0]).toMatchObject({
      serverErrorCode: "BAD_REQUEST",
    });
    const token = json(await call("calls.changes", changes())).zones?.[0]?.["syncToken"] as string;
    const probe = callsProbe(account.dsid);
    probe.failChanges("RETRY_LATER", { retryAfter: 3 });
    const failed = await call("calls.changes", changes(token));
    expect(failed.status).toBe(200);
    expect(json(failed).zones?.[0]).toMatchObject({ serverErrorCode: "RETRY_LATER", retryAfter: 3 });
    expect(json(await call("calls.changes", changes(token))).zones?.[0]).toMatchObject({ records: [] });
    probe.resetZone();
    expect(json(await call("calls.changes", changes(token))).zones?.[0]).toMatchObject({
      serverErrorCode: "BAD_REQUEST",
    });

    const off = setup({ initialised: false });
    expect(json(await off.call("calls.changes", changes())).zones?.[0]).toMatchObject({
      serverErrorCode: "ZONE_NOT_FOUND",
    });
    const query = await off.call("calls.query", { query: { recordType: "CallRecordByDate" } });
    expect(query.status).toBe(404);
    expect(json(query)).toMatchObject({ serverErrorCode: "ZONE_NOT_FOUND" });
  });

  it("checks the session, web access, the service and the request body", async () => {
    const { call } = setup({});
    expect(await call("calls.changes", changes(), false)).toMatchObject({
      status: 401,
      json: { serverErrorCode: "AUTHENTICATION_FAILED" },
    });
    expect(await call("calls.changes", "{not json")).toMatchObject({
      status: 400,
      json: { serverErrorCode: "BAD_REQUEST" },
    });
    expect(await call("calls.query", { query: { recordType: "Nope" } })).toMatchObject({ status: 400 });
    const adp = setup({}, { webAccessDisabled: true });
    expect(await adp.call("calls.changes", changes())).toMatchObject({
      status: 403,
      json: { serverErrorCode: "ACCESS_DENIED" },
    });
    const none = setup(undefined);
    expect((await none.call("calls.changes", changes())).status).toBe(404);
  });

  it("rejects an invalid scenario section with a readable error", () => {
    expect(() => setup({ history: [{ address: "+1", date: "yesterday", direction: "incoming" }] })).toThrow(
      /invalid calls section for calls@example.com/,
    );
    expect(() => setup({ new_call_every: "soon" })).toThrow(/not a duration/);
  });
});
