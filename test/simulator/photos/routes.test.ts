import { describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/logger.ts";
import type { SimServiceAccount, SimServiceContext } from "../../../src/simulator/context.ts";
import { createPhotosRoutes, photosSimulatorFor } from "../../../src/simulator/photos/index.ts";
import { matchRoute, type Route, type SimRequest } from "../../../src/simulator/router.ts";

const BASE = "/database/1/com.apple.photos.cloud/production";
const NOW = Date.UTC(2026, 0, 15, 12);

interface Rec {
  recordName: string;
  recordType?: string;
  deleted?: boolean;
  fields?: Record<string, { value: unknown; type: string }>;
}
type Json = Record<string, unknown>;

function fakeContext(accounts: SimServiceAccount[]) {
  let now = NOW;
  const ctx: SimServiceContext = {
    clock: {
      now: () => now,
      advance: (ms) => {
        now += ms;
      },
    },
    origin: () => "http://sim.test",
    log: silentLogger,
    authenticate: (req) =>
      req.cookies.get("session") === "ok"
        ? accounts.find((a) => a.dsid === req.url.searchParams.get("dsid"))
        : undefined,
    accounts: () => accounts,
  };
  return ctx;
}

function account(dsid: string, photos: unknown, webAccessDisabled = false): SimServiceAccount {
  return { dsid, appleId: `${dsid}@example.com`, webAccessDisabled, services: { photos } };
}

function setup(photos: unknown, extra: SimServiceAccount[] = []) {
  const ctx = fakeContext([account("1001", photos), ...extra]);
  const routes = createPhotosRoutes(ctx);
  const call = async (
    path: string,
    body: unknown,
    opts: { dsid?: string; session?: boolean; raw?: string; db?: string } = {},
  ) => {
    const url = new URL(
      `http://sim.test${BASE}/${opts.db ?? "private"}/${path}?remapEnums=True&getCurrentSyncToken=True&dsid=${opts.dsid ?? "1001"}`,
    );
    const found = matchRoute(routes, "POST", url.pathname);
    if (!found) throw new Error(`no route for ${url.pathname}`);
    const req: SimRequest = {
      method: "POST",
      url,
      headers: { "content-type": "text/plain" },
      body: Buffer.from(opts.raw ?? JSON.stringify(body)),
      cookies: new Map(opts.session === false ? [] : [["session", "ok"]]),
      params: found.params,
    };
    const res = await found.route.handle(req);
    return { status: res.status, json: res.json as Json, route: found.route.id };
  };
  return { ctx, routes, call, sim: photosSimulatorFor(ctx) };
}

const listQuery = (recordType: string, startRank: number, direction: string, resultsLimit = 200) => ({
  query: {
    recordType,
    filterBy: [
      { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: startRank } },
      { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: direction } },
    ],
  },
  resultsLimit,
  zoneID: { zoneName: "PrimarySync" },
});

const ALL = "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted";

describe("photos CloudKit routes (direct)", () => {
  it("exposes the fault-injection route ids", () => {
    const { routes } = setup({});
    const ids = (routes as Route[]).map((r) => r.id);
    for (const id of [
      "photos.zones.list",
      "photos.changes.database",
      "photos.changes.zone",
      "photos.records.query",
      "photos.batch",
      "photos.records.lookup",
      "photos.download",
    ]) {
      expect(ids).toContain(id);
    }
  });

  it("answers 401 without a web session and ACCESS_DENIED when web access is off", async () => {
    const { call } = setup({}, [account("2002", {}, true)]);
    const noSession = await call("zones/list", {}, { session: false });
    expect(noSession.status).toBe(401);
    expect(noSession.json).toEqual({ reason: "Invalid global session", error: 2 });
    const denied = await call("zones/list", {}, { dsid: "2002" });
    expect(denied.status).toBe(403);
    expect(denied.json.serverErrorCode).toBe("ACCESS_DENIED");
    expect(denied.json.reason).toBe("private db access disabled for this account");
  });

  it("lists zones per database, with the shared library where it belongs", async () => {
    const { call } = setup({ count: 10, shared_library: { count: 5, owned: false } });
    const priv = await call("zones/list", {});
    const zones = priv.json.zones as { zoneID: { zoneName: string; ownerRecordName: string }; syncToken: string }[];
    expect(zones.map((z) => z.zoneID.zoneName)).toEqual(["PrimarySync"]);
    expect(zones[0]?.zoneID.ownerRecordName).toMatch(/^_[0-9a-f]{32}$/);
    const shared = await call("zones/list", {}, { db: "shared" });
    const sharedZones = shared.json.zones as { zoneID: { zoneName: string } }[];
    expect(sharedZones[0]?.zoneID.zoneName).toMatch(/^SharedSync-[0-9A-F-]{36}$/);
  });

  it("pages the listing: masters first, startRank in photos, continuationMarker, descending", async () => {
    const { call } = setup({ count: 250, seed: 4, hidden_count: 5, deleted_count: 5 });
    const first = await call("records/query", listQuery(ALL, 0, "ASCENDING"));
    const records = first.json.records as Rec[];
    expect(records).toHaveLength(200);
    expect(records.slice(0, 100).every((r) => r.recordType === "CPLMaster")).toBe(true);
    expect(records.slice(100).every((r) => r.recordType === "CPLAsset")).toBe(true);
    expect(typeof first.json.continuationMarker).toBe("string");
    expect(typeof first.json.syncToken).toBe("string");
    const dates = records.slice(100).map((r) => Number(r.fields?.assetDate?.value));
    expect([...dates].sort((a, b) => a - b)).toEqual(dates);
    const second = await call("records/query", listQuery(ALL, 100, "ASCENDING"));
    const third = await call("records/query", listQuery(ALL, 200, "ASCENDING"));
    expect((third.json.records as Rec[]).length).toBe(2 * 40);
    expect(third.json.continuationMarker).toBeUndefined();
    const viaMarker = await call("records/query", {
      ...listQuery(ALL, 0, "ASCENDING"),
      continuationMarker: first.json.continuationMarker,
    });
    expect(viaMarker.json.records).toEqual(second.json.records);
    const newest = await call("records/query", listQuery(ALL, 239, "DESCENDING", 10));
    const newestAssets = (newest.json.records as Rec[])
      .filter((r) => r.recordType === "CPLAsset")
      .map((r) => Number(r.fields?.assetDate?.value));
    expect(newestAssets).toHaveLength(5);
    expect([...newestAssets].sort((a, b) => b - a)).toEqual(newestAssets);
    const added = await call("records/query", listQuery("CPLAssetAndMasterByAddedDate", 239, "DESCENDING", 10));
    const addedDates = (added.json.records as Rec[])
      .filter((r) => r.recordType === "CPLAsset")
      .map((r) => Number(r.fields?.addedDate?.value));
    expect([...addedDates].sort((a, b) => a - b)).toEqual(addedDates);
  });

  it("counts with HyperionIndexCountLookup and reports indexing state", async () => {
    const { call, sim } = setup({
      count: 50,
      hidden_count: 3,
      deleted_count: 2,
      indexing: "RUNNING",
      indexing_progress: 30,
    });
    const batch = await call("internal/records/query/batch", {
      batch: [
        {
          resultsLimit: 1,
          zoneWide: true,
          zoneID: { zoneName: "PrimarySync" },
          query: {
            recordType: "HyperionIndexCountLookup",
            filterBy: {
              fieldName: "indexCountID",
              comparator: "IN",
              fieldValue: {
                type: "STRING_LIST",
                value: [
                  "CPLAssetByAssetDateWithoutHiddenOrDeleted",
                  "CPLAssetByAddedDate",
                  "CPLAssetHiddenByAssetDate",
                ],
              },
            },
          },
        },
      ],
    });
    const countRecords = ((batch.json.batch as Json[])[0]?.records ?? []) as Rec[];
    const counts = countRecords.map((r) => [r.recordName, r.fields?.itemCount?.value]);
    expect(counts).toEqual([
      ["CPLAssetByAssetDateWithoutHiddenOrDeleted", 45],
      ["CPLAssetByAddedDate", 45],
      ["CPLAssetHiddenByAssetDate", 3],
    ]);
    const state = await call("records/query", {
      query: { recordType: "CheckIndexingState" },
      zoneID: { zoneName: "PrimarySync" },
    });
    const rec = (state.json.records as Rec[])[0];
    expect(rec?.fields?.state).toEqual({ value: "RUNNING", type: "STRING" });
    expect(rec?.fields?.progress).toEqual({ value: 30, type: "INT64" });
    sim.setIndexing("1001", "FINISHED");
    const done = await call("records/query", {
      query: { recordType: "CheckIndexingState" },
      zoneID: { zoneName: "PrimarySync" },
    });
    expect((done.json.records as Rec[])[0]?.fields?.state?.value).toBe("FINISHED");
    const albums = await call("records/query", {
      query: { recordType: "CPLAlbumByPositionLive" },
      zoneID: { zoneName: "PrimarySync" },
    });
    expect((albums.json.records as Rec[]).map((r) => r.recordName)).toEqual([
      "----Root-Folder----",
      "----Project-Root-Folder----",
    ]);
  });

  it("feeds changes/zone with paging, coalescing, tombstones, bad tokens and injected faults", async () => {
    const { call, sim, ctx } = setup({ count: 150, seed: 9 });
    const zoneID = { zoneName: "PrimarySync" };
    const seen: Rec[] = [];
    let token: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await call("changes/zone", {
        zones: [{ zoneID, ...(token ? { syncToken: token } : {}), desiredRecordTypes: ["CPLMaster", "CPLAsset"] }],
        resultsLimit: 200,
      });
      const zone = (res.json.zones as Json[])[0] ?? {};
      seen.push(...(zone.records as Rec[]));
      token = zone.syncToken as string;
      pages++;
      if (!zone.moreComing) break;
    }
    expect(pages).toBe(2);
    expect(seen).toHaveLength(300);
    const db = await call("changes/database", {});
    const dbToken = db.json.syncToken as string;
    const quiet = await call("changes/database", { syncToken: dbToken });
    expect(quiet.json.zones).toEqual([]);
    ctx.clock.advance(60_000);
    const added = sim.addPhotos("1001", 2);
    const victim = sim.visiblePhotos("1001")[0];
    if (!victim) throw new Error("no photo");
    sim.changePhoto("1001", victim.assetRecordName, "hide");
    sim.changePhoto("1001", victim.assetRecordName, "expunge");
    const changedDb = await call("changes/database", { syncToken: dbToken });
    expect((changedDb.json.zones as Json[]).length).toBe(1);
    sim.injectZoneError("1001", { serverErrorCode: "RETRY_LATER", times: 1 });
    const failed = await call("changes/zone", { zones: [{ zoneID, syncToken: token }] });
    const failedZone = (failed.json.zones as Json[])[0] ?? {};
    expect(failedZone.serverErrorCode).toBe("RETRY_LATER");
    expect(failedZone.syncToken).toBeUndefined();
    const delta = await call("changes/zone", { zones: [{ zoneID, syncToken: token, resultsLimit: 3 }] });
    const page1 = (delta.json.zones as Json[])[0] ?? {};
    expect(page1.moreComing).toBe(true);
    const page2 = await call("changes/zone", { zones: [{ zoneID, syncToken: page1.syncToken }] });
    const records = [...(page1.records as Rec[]), ...(((page2.json.zones as Json[])[0]?.records as Rec[]) ?? [])];
    const names = records.map((r) => r.recordName);
    expect(names).toEqual(
      expect.arrayContaining([
        added[0]?.assetRecordName,
        added[1]?.masterRecordName,
        victim.assetRecordName,
        victim.masterRecordName,
      ]),
    );
    expect(records.filter((r) => r.deleted)).toEqual([
      {
        recordName: victim.masterRecordName,
        deleted: true,
        zoneID: expect.objectContaining({ zoneName: "PrimarySync" }),
      },
      {
        recordName: victim.assetRecordName,
        deleted: true,
        zoneID: expect.objectContaining({ zoneName: "PrimarySync" }),
      },
    ]);
    expect(records).toHaveLength(6);
    const bad = await call("changes/zone", {
      zones: [{ zoneID, syncToken: "AQAAAAAAAAAAf/////////8AAAAAAAAAAAAAAAAAAAAA" }],
    });
    expect((bad.json.zones as Json[])[0]?.serverErrorCode).toBe("BAD_REQUEST");
    const missing = await call("changes/zone", { zones: [{ zoneID: { zoneName: "NoSuchZone" } }] });
    expect((missing.json.zones as Json[])[0]?.serverErrorCode).toBe("ZONE_NOT_FOUND");
  });

  it("looks records up by name and reports missing ones per record", async () => {
    const { call, sim } = setup({ count: 5 });
    const photo = sim.visiblePhotos("1001")[0];
    if (!photo) throw new Error("no photo");
    const res = await call("records/lookup", {
      records: [{ recordName: photo.masterRecordName }, { recordName: photo.assetRecordName }, { recordName: "nope" }],
      zoneID: { zoneName: "PrimarySync" },
      desiredKeys: ["filenameEnc", "masterRef"],
    });
    const records = res.json.records as (Rec & { serverErrorCode?: string })[];
    expect(records[0]?.recordType).toBe("CPLMaster");
    expect(Object.keys(records[0]?.fields ?? {})).toEqual(["filenameEnc"]);
    expect(records[1]?.recordType).toBe("CPLAsset");
    expect(records[2]?.serverErrorCode).toBe("NOT_FOUND");
  });

  it("rejects malformed bodies and unknown zones", async () => {
    const { call } = setup({ count: 5 });
    expect((await call("records/query", null, { raw: "{not json" })).status).toBe(400);
    expect((await call("records/query", { zoneID: { zoneName: "PrimarySync" } })).status).toBe(400);
    const unknown = await call("records/query", listQuery(ALL, 0, "ASCENDING"), { db: "shared" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.serverErrorCode).toBe("ZONE_NOT_FOUND");
  });

  it("materialises new_photo_every photos as the simulator clock advances", async () => {
    const { call, ctx } = setup({ count: 3, new_photo_every: "1h" });
    const before = await call("zones/list", {});
    ctx.clock.advance(2 * 3_600_000 + 1);
    const after = await call("zones/list", {});
    const token = (r: typeof before) => (r.json.zones as { syncToken: string }[])[0]?.syncToken;
    expect(token(after)).not.toBe(token(before));
    const list = await call("records/query", listQuery(ALL, 0, "ASCENDING"));
    expect((list.json.records as Rec[]).length).toBe(10);
  });

  it("rejects an invalid photos section when the routes are created", () => {
    const ctx = fakeContext([account("1001", { count: -1 })]);
    expect(() => createPhotosRoutes(ctx)).toThrow(/photos\.count/);
    expect(() => createPhotosRoutes(fakeContext([account("1001", { nope: 1 })]))).toThrow(/1001@example.com/);
  });

  it("offers zod-validated control routes under /__sim/photos", async () => {
    const { routes, sim } = setup({ count: 2 });
    const post = async (path: string, body: unknown) => {
      const found = matchRoute(routes, "POST", path);
      if (!found) throw new Error(`no route ${path}`);
      const url = new URL(`http://sim.test${path}`);
      const req: SimRequest = {
        method: "POST",
        url,
        headers: {},
        body: Buffer.from(JSON.stringify(body)),
        cookies: new Map(),
        params: found.params,
      };
      return found.route.handle(req);
    };
    const added = await post("/__sim/photos/add", { dsid: "1001", count: 2 });
    expect(added.status).toBe(200);
    expect(sim.visiblePhotos("1001")).toHaveLength(4);
    expect((await post("/__sim/photos/add", { dsid: "1001", count: "x" })).status).toBe(400);
    const name = sim.visiblePhotos("1001")[0]?.assetRecordName;
    expect((await post("/__sim/photos/change", { dsid: "1001", recordName: name, change: "delete" })).json).toEqual({
      changed: true,
    });
    expect(sim.visiblePhotos("1001")).toHaveLength(3);
  });

  it("applies scenario zone_errors to the first changes/zone answers", async () => {
    const { call } = setup({ count: 2, zone_errors: [{ server_error_code: "THROTTLED", times: 2 }] });
    const body = { zones: [{ zoneID: { zoneName: "PrimarySync" } }] };
    for (let i = 0; i < 2; i++) {
      expect(((await call("changes/zone", body)).json.zones as Json[])[0]?.serverErrorCode).toBe("THROTTLED");
    }
    const ok = ((await call("changes/zone", body)).json.zones as Json[])[0] ?? {};
    expect(ok.serverErrorCode).toBeUndefined();
    expect(ok.records).toHaveLength(4);
  });

  it("bounds new_photo_every catch-up after a long clock jump", async () => {
    const { call, ctx, sim } = setup({ count: 1, new_photo_every: "1s" });
    ctx.clock.advance(365 * 86_400_000);
    await call("zones/list", {});
    // Two accesses (zones/list, then visiblePhotos) catch up at most 10 000 photos each.
    expect(sim.visiblePhotos("1001").length).toBe(20_001);
  });

  it("albums: CPLAlbumByPositionLive lists folders and albums; CPLContainerRelationLiveByAssetDate pages an album's members", async () => {
    const { call, sim } = setup({
      count: 40,
      seed: 3,
      albums: [
        { name: "Trip ✈️", share: 0.5 },
        { name: "Kids", folder: "Family", share: 0.3 },
      ],
    });
    const zoneID = { zoneName: "PrimarySync" };
    const listed = await call("records/query", { query: { recordType: "CPLAlbumByPositionLive" }, zoneID });
    const records = listed.json.records as Rec[];
    const names = records.map((r) => [
      r.recordName.startsWith("----") ? r.recordName : "uuid",
      r.fields?.albumNameEnc ? Buffer.from(String(r.fields.albumNameEnc.value), "base64").toString("utf8") : null,
      r.fields?.albumType?.value,
    ]);
    expect(names).toEqual([
      ["----Root-Folder----", null, 3],
      ["----Project-Root-Folder----", null, 3],
      ["uuid", "Family", 3],
      ["uuid", "Trip ✈️", 0],
      ["uuid", "Kids", 0],
    ]);
    const [, , family, trip, kids] = records;
    expect(kids?.fields?.parentId).toEqual({ value: family?.recordName, type: "STRING" });
    expect(trip?.fields?.parentId).toEqual({ value: "----Root-Folder----", type: "STRING" });

    const members = async (album: string, startRank: number, resultsLimit: number) => {
      const body = listQuery("CPLContainerRelationLiveByAssetDate", startRank, "ASCENDING", resultsLimit);
      body.query.filterBy.push({
        fieldName: "parentId",
        comparator: "EQUALS",
        fieldValue: { type: "STRING", value: album },
      });
      return (await call("records/query", body)).json.records as Rec[];
    };
    const count = await call("internal/records/query/batch", {
      batch: [
        {
          resultsLimit: 1,
          zoneWide: true,
          zoneID,
          query: {
            recordType: "HyperionIndexCountLookup",
            filterBy: {
              fieldName: "indexCountID",
              comparator: "IN",
              fieldValue: {
                type: "STRING_LIST",
                value: [`CPLContainerRelationNotDeletedByAssetDate:${trip?.recordName}`],
              },
            },
          },
        },
      ],
    });
    const counted = ((count.json.batch as Json[])[0]?.records ?? []) as Rec[];
    const total = counted[0]?.fields?.itemCount?.value as number;
    expect(total).toBeGreaterThan(5);
    const seen: string[] = [];
    for (let rank = 0; ; ) {
      const page = await members(trip?.recordName ?? "", rank, 12);
      const assets = page.filter((r) => r.recordType === "CPLAsset");
      if (assets.length === 0) break;
      expect(page.filter((r) => r.recordType === "CPLMaster")).toHaveLength(assets.length);
      const relations = page.filter((r) => r.recordType === "CPLContainerRelation");
      expect(relations.map((r) => r.fields?.itemId?.value)).toEqual(assets.map((a) => a.recordName));
      expect(relations.every((r) => r.fields?.containerId?.value === trip?.recordName)).toBe(true);
      seen.push(...assets.map((a) => a.recordName));
      rank += assets.length;
    }
    expect(seen).toHaveLength(total);
    // A hidden member leaves the album (the relation is no longer live).
    sim.changePhoto("1001", seen[0] ?? "", "hide");
    expect((await members(trip?.recordName ?? "", 0, 200)).filter((r) => r.recordType === "CPLAsset")).toHaveLength(
      total - 1,
    );
    // Without the parentId filter the album query is refused, like an unfiltered smart album.
    const bad = await call("records/query", listQuery("CPLContainerRelationLiveByAssetDate", 0, "ASCENDING"));
    expect(bad.status).toBe(400);
  });
});
