import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineError } from "../../../src/errors.ts";
import {
  CALLKIT_UNINITIALISED_MESSAGE,
  CloudCallsSource,
  NO_CALL_SERVICE_MESSAGE,
} from "../../../src/icloud/calls/cloud-source.ts";
import { type CallkitCall, CallkitCallSchema } from "../../../src/icloud/calls/types.ts";
import { ICloudSession } from "../../../src/icloud/session.ts";
import { callsProbe, createCallsRoutes } from "../../../src/simulator/calls/routes.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { startSim } from "../../support/harness.ts";

/**
 * End to end: the real simulator core with the call-history routes, and the real signed-in session
 * as the client's transport. Nothing is mocked.
 */

const DSID = "10000000001";
const HISTORY = [
  {
    id: "H-1",
    address: "+12125550111",
    name: "Ann",
    date: "2025-05-01T10:00:00Z",
    duration: 42,
    direction: "incoming",
  },
  { id: "H-2", address: "+12125550112", date: "2025-05-02T10:00:00Z", direction: "incoming", answered: false },
  {
    id: "H-3",
    address: "bob@example.com",
    date: "2025-05-03T10:00:00Z",
    direction: "outgoing",
    call_type: "facetime_video",
  },
];

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "calls@example.com",
      password: "pw",
      dsid: DSID,
      mfa: { kind: "none" },
      calls: { history: HISTORY, generate: { count: 220, seed: 1 }, new_call_every: "10m" },
    },
    { apple_id: "nocalls@example.com", password: "pw", mfa: { kind: "none" } },
    { apple_id: "uninit@example.com", password: "pw", mfa: { kind: "none" }, calls: { initialised: false } },
  ],
});

let sim: SimulatorHandle;
const sessions = new Map<string, ICloudSession>();

beforeAll(async () => {
  sim = await startSim(scenario, { services: [createCallsRoutes], closeAtCleanup: false });
});
afterAll(async () => {
  await sim?.close();
});

async function session(appleId: string): Promise<ICloudSession> {
  const existing = sessions.get(appleId);
  if (existing) return existing;
  const created = new ICloudSession({
    username: appleId,
    password: "pw",
    endpoint: sim.url,
    http: { backoff: { baseMs: 1, maxMs: 5, tries: 2 } },
  });
  const snapshot = await created.signIn();
  expect(snapshot.state).toBe("active");
  sessions.set(appleId, created);
  return created;
}

const routeCount = (id: string) => sim.requests().filter((r) => r.route === id).length;
const ids = (calls: readonly CallkitCall[]) => calls.map((call) => call.id);

describe("call history from the simulated callhistory webservice", () => {
  it("lists the history newest first, paging records/query past 200", async () => {
    const source = new CloudCallsSource(await session("calls@example.com"));
    const before = routeCount("calls.query");
    const all = await source.calls({ limit: 1000 });
    expect(routeCount("calls.query") - before).toBe(2);
    expect(all).toHaveLength(223);
    for (const call of all) CallkitCallSchema.parse(call);
    expect(new Set(ids(all)).size).toBe(223);
    const dates = all.map((call) => Date.parse(call.date));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect(ids(await source.calls({ limit: 5 }))).toEqual(ids(all.slice(0, 5)));
    const since = new Date(dates[9] ?? 0);
    expect(ids(await source.calls({ since }))).toEqual(ids(all.slice(0, 9)));

    const byId = new Map(all.map((call) => [call.id, call]));
    expect(byId.get("H-1")).toEqual({
      id: "H-1",
      data_type: "callkit.call",
      address: "+12125550111",
      name: "Ann",
      date: "2025-05-01T10:00:00.000Z",
      duration: 42,
      direction: "incoming",
      answered: true,
      missed: false,
      call_type: "phone",
      service_provider: "com.apple.Telephony",
      iso_country_code: "us",
    });
    expect(byId.get("H-2")).toMatchObject({ missed: true, answered: false, name: null });
    expect(byId.get("H-3")).toMatchObject({
      call_type: "facetime_video",
      direction: "outgoing",
      service_provider: "com.apple.FaceTime",
    });
  });

  it("starts with the newest 50 calls, walking changes/zone while moreComing, then follows the clock", async () => {
    const source = new CloudCallsSource(await session("calls@example.com"));
    const before = routeCount("calls.changes");
    const first = await source.newCalls(undefined);
    expect(routeCount("calls.changes") - before).toBe(2);
    const newest = await source.calls({ limit: 50 });
    expect(ids(first.calls)).toEqual(ids(newest).reverse());

    expect((await source.newCalls(first.cursor)).calls).toEqual([]);
    const start = Date.parse(newest[0]?.date ?? "");
    sim.clock.advance(25 * 60_000);
    const next = await source.newCalls(first.cursor);
    expect(next.calls).toHaveLength(2);
    expect(next.calls.every((call) => Date.parse(call.date) > start)).toBe(true);

    // A restart (new source, stored cursor) returns nothing twice.
    const restarted = new CloudCallsSource(await session("calls@example.com"));
    expect((await restarted.newCalls(next.cursor)).calls).toEqual([]);
    const added = callsProbe(DSID).addCall({
      id: "LIVE-1",
      address: "+12125550150",
      date: new Date(sim.clock.now()).toISOString(),
      direction: "incoming",
      answered: false,
    });
    const live = await restarted.newCalls(next.cursor);
    expect(ids(live.calls)).toEqual([added]);
    expect(live.calls[0]).toMatchObject({ missed: true });
    expect((await restarted.newCalls(live.cursor)).calls).toEqual([]);
  });

  it("leaves the cursor unchanged when a later page answers RETRY_LATER or the service answers 503", async () => {
    const source = new CloudCallsSource(await session("calls@example.com"));
    const { cursor } = await source.newCalls((await source.newCalls(undefined)).cursor);
    const probe = callsProbe(DSID);
    const base = sim.clock.now();
    const added = Array.from({ length: 250 }, (_, i) =>
      probe.addCall({
        id: `BULK-${i}`,
        address: "+12125550160",
        date: new Date(base + i * 1000).toISOString(),
        direction: "outgoing",
      }),
    );

    probe.failChanges("RETRY_LATER", { afterPages: 1, retryAfter: 7 });
    const retry = await source.newCalls(cursor).catch((error: unknown) => error);
    expect(retry).toBeInstanceOf(EngineError);
    expect(retry).toMatchObject({ code: "RATE_LIMITED", retryable: true, retryAfter: 7 });

    sim.faults.add({ endpoint: "calls.changes", kind: "unavailable", times: 2 });
    await expect(source.newCalls(cursor)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });

    // The same cursor, retried, delivers every pending call exactly once.
    const result = await source.newCalls(cursor);
    expect(ids(result.calls)).toEqual(added);
    expect((await source.newCalls(result.cursor)).calls).toEqual([]);
  });

  it("after a rejected sync token (BAD_REQUEST) returns only calls newer than the cursor's newest call", async () => {
    const source = new CloudCallsSource(await session("calls@example.com"));
    let { cursor } = await source.newCalls(undefined);
    cursor = (await source.newCalls(cursor)).cursor;
    const probe = callsProbe(DSID);
    probe.resetZone();
    // Dated after every call the cursor has seen (earlier tests added calls ahead of the clock).
    const fresh = probe.addCall({
      id: "AFTER-RESET",
      address: "+12125550170",
      date: new Date(sim.clock.now() + 3_600_000).toISOString(),
      direction: "incoming",
    });
    const result = await source.newCalls(cursor);
    expect(ids(result.calls)).toEqual([fresh]);
    expect((await source.newCalls(result.cursor)).calls).toEqual([]);
  });

  it("re-validates an expired web session (421) and carries on", async () => {
    const source = new CloudCallsSource(await session("calls@example.com"));
    const { cursor } = await source.newCalls((await source.newCalls(undefined)).cursor);
    sim.clock.advance(2 * 3_600_000); // past the validate token's 1 h lifetime; 12 more scheduled calls
    const before = sim.requests().length;
    const result = await source.newCalls(cursor);
    const seen = sim.requests().slice(before);
    expect(seen.find((r) => r.route === "calls.changes")?.status).toBe(421);
    expect(seen.some((r) => r.route === "setup.validate")).toBe(true);
    expect(result.calls).toHaveLength(12);
    expect((await source.newCalls(result.cursor)).calls).toEqual([]);
  });

  it("says clearly that an account without the callhistory webservice has no call history", async () => {
    const transport = await session("nocalls@example.com");
    expect(transport.serviceUrl("callhistory")).toBeUndefined();
    const source = new CloudCallsSource(transport);
    for (const attempt of [source.newCalls(undefined), source.calls()]) {
      await expect(attempt).rejects.toMatchObject({ code: "SERVICE_NOT_AVAILABLE", message: NO_CALL_SERVICE_MESSAGE });
    }
    expect(NO_CALL_SERVICE_MESSAGE).toContain("calls.source: macos");
  });

  it("reports callkit-uninitialised with ricloud's fix when the zone does not exist", async () => {
    const source = new CloudCallsSource(await session("uninit@example.com"));
    for (const attempt of [source.newCalls(undefined), source.calls()]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "CALLKIT_UNINITIALISED", message: CALLKIT_UNINITIALISED_MESSAGE });
      expect((error as EngineError).sessionError).toBe("callkit-uninitialised");
    }
  });
});
