import { afterEach, describe, expect, it } from "vitest";
import { isEngineError } from "../../../src/errors.ts";
import { MAX_PREFETCH } from "../../../src/icloud/photos/enumerate.ts";
import { PhotosService } from "../../../src/icloud/photos/photos-service.ts";
import type { PhotosSyncState } from "../../../src/icloud/photos/sync-state.ts";
import type { PhotoItem } from "../../../src/icloud/photos/types.ts";
import { IcplAssetSchema } from "../../../src/icloud/photos/types.ts";
import type { ServiceTransport } from "../../../src/icloud/service-transport.ts";
import { APPLE_ID, type PhotosWorld, photosWorld } from "../../support/photos-world.ts";

let world: PhotosWorld | undefined;
afterEach(async () => {
  await world?.sim.close();
  world = undefined;
});

async function collect(iterable: AsyncIterable<PhotoItem>): Promise<PhotoItem[]> {
  const out: PhotoItem[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function baseline(w: PhotosWorld): Promise<{ photos: PhotosService; state: PhotosSyncState }> {
  const photos = new PhotosService(w.session);
  const first = await photos.newAssets(undefined);
  expect(first.assets).toEqual([]);
  return { photos, state: first.nextState };
}

describe("PhotosService against the simulator", () => {
  it("first run records tokens without a flood; no change costs one request per database", async () => {
    world = await photosWorld({ count: 120, seed: 3 });
    const { photos, state } = await baseline(world);
    expect(state.zones.map((z) => z.zoneID.zoneName)).toEqual(["PrimarySync"]);
    // The shared database is watched even without a Shared Library, so joining one later is noticed.
    expect(state.databases.shared).toBeTruthy();
    const before = world.served();
    const check = await photos.hasChanges(state);
    expect(check.changed).toBe(false);
    const none = await photos.newAssets(state, check);
    expect(none.assets).toEqual([]);
    expect(world.served() - before).toBe(2);
    expect(world.served("photos.changes.database")).toBeGreaterThanOrEqual(2);

    const privateOnly = new PhotosService(world.session, { includeShared: false });
    const own = (await privateOnly.newAssets(undefined)).nextState;
    expect(own.databases.shared).toBeUndefined();
    const start = world.served();
    expect((await privateOnly.hasChanges(own)).changed).toBe(false);
    expect(world.served() - start).toBe(1);
  });

  it("notices a Shared Library that was not followed at the baseline", async () => {
    world = await photosWorld({ count: 10, seed: 12, shared_library: { count: 15, owned: false } });
    // A state without the shared database (as if the Shared Library was joined after the baseline).
    const before = (await new PhotosService(world.session, { includeShared: false }).newAssets(undefined)).nextState;
    expect(before.zones.map((z) => z.database)).toEqual(["private"]);
    expect(before.databases.shared).toBeUndefined();
    const photos = new PhotosService(world.session);
    const check = await photos.hasChanges(before);
    expect(check.changed).toBe(true);
    expect(check.databaseTokens.shared).toBeTruthy();
    const followed = await photos.newAssets(before, check);
    // Followed from now on (baseline policy): its existing photos are not reported as new.
    expect(followed.assets).toEqual([]);
    const shared = followed.nextState.zones.find((z) => z.database === "shared");
    expect(shared?.zoneID.zoneName).toMatch(/^SharedSync-/);
    const [added] = world.control.addPhotos(world.dsid, 1, shared!.zoneID.zoneName);
    const changes = await photos.newAssets(followed.nextState);
    expect(changes.assets.map((a) => a.asset.id)).toEqual([added?.assetRecordName]);
  });

  it("detects one new photo by sync token, then nothing", async () => {
    world = await photosWorld({ count: 40, seed: 4 });
    const { photos, state } = await baseline(world);
    const [added] = world.control.addPhotos(world.dsid, 1);
    const changes = await photos.newAssets(state);
    expect(changes.assets.map((a) => a.asset.id)).toEqual([added?.assetRecordName]);
    const asset = changes.assets[0]!.asset;
    expect(IcplAssetSchema.parse(asset)).toEqual(asset);
    expect(asset.master_id).toBe(added?.masterRecordName);
    expect(asset.files.some((f) => f.role === "original")).toBe(true);
    const again = await photos.newAssets(changes.nextState);
    expect(again.assets).toEqual([]);
  });

  it("pages changes/zone with moreComing", async () => {
    world = await photosWorld({ count: 10, seed: 5 });
    const { photos, state } = await baseline(world);
    const added = world.control.addPhotos(world.dsid, 250);
    const pagesBefore = world.served("photos.changes.zone");
    const changes = await photos.newAssets(state);
    expect(world.served("photos.changes.zone") - pagesBefore).toBeGreaterThanOrEqual(3);
    expect(new Set(changes.assets.map((a) => a.asset.id))).toEqual(new Set(added.map((a) => a.assetRecordName)));
  });

  it("classifies expunged, recently deleted, hidden and favourited photos", async () => {
    world = await photosWorld({ count: 30, seed: 6, favorite_ratio: 0 });
    const { photos, state } = await baseline(world);
    const [a, b, c, d] = world.control.visiblePhotos(world.dsid);
    world.control.changePhoto(world.dsid, a!.assetRecordName, "expunge");
    world.control.changePhoto(world.dsid, b!.assetRecordName, "delete");
    world.control.changePhoto(world.dsid, c!.assetRecordName, "hide");
    world.control.changePhoto(world.dsid, d!.assetRecordName, "favorite");
    const changes = await photos.newAssets(state);
    const reasons = new Map(changes.deleted.map((r) => [r.id, r.reason]));
    expect(reasons.get(a!.assetRecordName)).toBe("expunged");
    expect(reasons.get(b!.assetRecordName)).toBe("recently_deleted");
    const byId = new Map(changes.assets.map((i) => [i.asset.id, i.asset]));
    expect(byId.get(c!.assetRecordName)?.hidden).toBe(true);
    expect(byId.get(d!.assetRecordName)?.favorite).toBe(true);
    expect(byId.has(a!.assetRecordName)).toBe(false);
  });

  it("enumerates the library with count, order and since/until on date_uploaded", async () => {
    world = await photosWorld({ count: 260, seed: 7, hidden_count: 5, deleted_count: 5 });
    const photos = new PhotosService(world.session);
    expect((await photos.checkIndexing()).ready).toBe(true);
    const visible = world.control.visiblePhotos(world.dsid).map((p) => p.assetRecordName);
    expect(await photos.count()).toBe(visible.length);
    const all = await collect(photos.enumerate({ index: "asset_date" }));
    expect(all.map((i) => i.asset.id).sort()).toEqual([...visible].sort());

    const added = await collect(photos.enumerate());
    expect(new Set(added.map((i) => i.asset.id))).toEqual(new Set(visible));
    const dates = added.map((i) => Date.parse(i.asset.date_uploaded));
    expect(dates).toEqual([...dates].sort((x, y) => x - y));
    const desc = await collect(photos.enumerate({ order: "desc" }));
    expect(desc.map((i) => i.asset.id)).toEqual(added.map((i) => i.asset.id).reverse());

    const since = added[100]!.asset.date_uploaded;
    const until = added[200]!.asset.date_uploaded;
    const window = await collect(photos.enumerate({ since, until }));
    const expected = added.filter((i) => i.asset.date_uploaded > since && i.asset.date_uploaded < until);
    expect(window.map((i) => i.asset.id)).toEqual(expected.map((i) => i.asset.id));
    const newest = await collect(photos.enumerate({ since, order: "desc" }));
    expect(newest.length).toBe(added.filter((i) => Date.parse(i.asset.date_uploaded) > Date.parse(since)).length);
  });

  it("prefetch: the same pages in the same order, pages asked for ahead, none after an early stop", async () => {
    world = await photosWorld({ count: 530, seed: 9, hidden_count: 4, deleted_count: 3 });
    const w = world;
    // Counts the CloudKit requests in flight at once (the simulator answers each on its own).
    let inFlight = 0;
    let most = 0;
    // Queries the client sent, counted as they go out: the simulator's own count would also take in
    // an aborted request of an earlier walk that reaches it late.
    let queries = 0;
    await new PhotosService(w.session).count(); // the session's first CloudKit call is behind us
    const counting: ServiceTransport = {
      serviceUrl: (name) => w.session.serviceUrl(name),
      request: async (service, path, options) => {
        if (/\/records\/query(\?|$)/.test(path)) queries++;
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          return await w.session.request(service, path, options);
        } finally {
          inFlight--;
        }
      },
      download: (url, options) => w.session.download(url, options),
    };
    const photos = new PhotosService(counting);
    const ids = async (options: Parameters<PhotosService["enumerate"]>[0]) =>
      (await collect(photos.enumerate(options))).map((item) => item.asset.id);
    for (const order of ["asc", "desc"] as const) {
      for (const index of ["added", "asset_date"] as const) {
        const start = queries;
        const serial = await ids({ order, index });
        const serialQueries = queries - start;
        expect(most).toBe(1);
        most = 0;
        const ahead = await ids({ order, index, prefetch: MAX_PREFETCH });
        expect(ahead).toEqual(serial);
        // Requests sent together (how many are still unanswered when the next goes out varies).
        expect(most).toBeGreaterThanOrEqual(2);
        expect(most).toBeLessThanOrEqual(MAX_PREFETCH + 1);
        most = 0;
        // Descending walks end at rank 0; ascending ones may ask for a few empty pages past the end.
        const extra = queries - start - 2 * serialQueries;
        expect(extra).toBeGreaterThanOrEqual(0);
        expect(extra).toBeLessThanOrEqual(order === "desc" ? 0 : MAX_PREFETCH);
      }
    }
    // Pages of 7 records hold 3 or 4 photos, so the pages asked for ahead rarely line up: they are
    // dropped and asked for again, and the walk still gives every item once, in order.
    const odd = await ids({ pageSize: 7, prefetch: 2 });
    expect(odd).toEqual(await ids({ pageSize: 7 }));
    // A walk that stops within its first page asked for that page alone.
    const before = queries;
    for await (const _ of photos.enumerate({ order: "desc", prefetch: MAX_PREFETCH })) break;
    expect(queries - before).toBe(1);
  });

  it("reports ACCESS_DENIED as WEB_ACCESS_DISABLED with the fix", async () => {
    world = await photosWorld({ count: 5 });
    // The user turns Advanced Data Protection on while the bridge's web session is alive.
    const state = world.sim.world.accounts.all().find((a) => a.appleId === APPLE_ID);
    Object.assign(state!.config, { web_access_disabled: true });
    const photos = new PhotosService(world.session);
    const error = await photos.zones().catch((e: unknown) => e);
    expect(isEngineError(error, "WEB_ACCESS_DISABLED")).toBe(true);
    expect((error as Error).message).toContain("Access iCloud Data on the Web");
    expect((error as Error).message).toContain("Advanced Data Protection");
  });

  it("never advances the token past RETRY_LATER or a 503", async () => {
    world = await photosWorld({ count: 20, seed: 8 });
    const { photos, state } = await baseline(world);
    const [added] = world.control.addPhotos(world.dsid, 1);
    world.control.injectZoneError(world.dsid, { serverErrorCode: "RETRY_LATER" });
    const limited = await photos.newAssets(state).catch((e: unknown) => e);
    expect(isEngineError(limited, "RATE_LIMITED")).toBe(true);

    world.sim.faults.add({ endpoint: "photos.changes.zone", kind: "unavailable", times: 10 });
    const unavailable = await photos.newAssets(state).catch((e: unknown) => e);
    expect(isEngineError(unavailable)).toBe(true);
    world.sim.faults.clear();

    const changes = await photos.newAssets(state);
    expect(changes.assets.map((a) => a.asset.id)).toEqual([added?.assetRecordName]);
  });

  it("re-baselines on BAD_REQUEST and asks for a resync", async () => {
    world = await photosWorld({ count: 20, seed: 9 });
    const { photos, state } = await baseline(world);
    world.control.addPhotos(world.dsid, 1);
    world.control.injectZoneError(world.dsid, {
      serverErrorCode: "BAD_REQUEST",
      reason: "Unknown sync continuation type",
    });
    const changes = await photos.newAssets(state);
    expect(changes.resync).toBe(true);
    expect(changes.nextState.zones).toHaveLength(1);
    expect((await photos.newAssets(changes.nextState)).assets).toEqual([]);
  });

  it("follows a Shared Library in the shared database", async () => {
    world = await photosWorld({ count: 10, seed: 10, shared_library: { count: 15, owned: false } });
    const { photos, state } = await baseline(world);
    const shared = state.zones.find((z) => z.zoneID.zoneName.startsWith("SharedSync-"));
    expect(shared?.database).toBe("shared");
    const [added] = world.control.addPhotos(world.dsid, 1, shared!.zoneID.zoneName);
    const changes = await photos.newAssets(state);
    expect(changes.assets.map((a) => [a.asset.id, a.asset.zone, a.zone.database])).toEqual([
      [added?.assetRecordName, shared?.zoneID.zoneName, "shared"],
    ]);
  });

  it("reports the whole library on a first run with firstRun: all", async () => {
    world = await photosWorld({ count: 130, seed: 11 });
    const photos = new PhotosService(world.session, { firstRun: "all" });
    const first = await photos.newAssets(undefined);
    const visible = world.control.visiblePhotos(world.dsid).map((p) => p.assetRecordName);
    expect(new Set(first.assets.filter((a) => !a.asset.hidden).map((a) => a.asset.id))).toEqual(new Set(visible));
    expect((await photos.newAssets(first.nextState)).assets).toEqual([]);
  });

  it("waits for indexing", async () => {
    world = await photosWorld({ count: 5, indexing: "RUNNING", indexing_progress: 42 });
    const status = await new PhotosService(world.session).checkIndexing();
    expect(status).toMatchObject({ ready: false, state: "RUNNING", progress: 42 });
  });
});
