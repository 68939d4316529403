import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../src/engine/events.ts";
import { findPhotosSimulator } from "../../src/simulator/photos/index.ts";
import { assetRecordName } from "../../src/simulator/photos/names.ts";
import { engineHarness, enterCode } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const DSID = "20000000123";
const ACCOUNT: TestAccount = {
  appleId: "pics@example.com",
  password: "engine-photos-password",
  code: "808080",
  dsid: DSID,
};

afterEach(cleanUp);

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

async function setup(options: { download?: boolean } = {}) {
  const { sim, dir, engine } = await engineHarness({
    account: ACCOUNT,
    spec: { photos: { count: 6, seed: 8 } },
    dirPrefix: "i2m-photos-",
    id: "pics",
    settings: (dir) => ({
      ...(options.download
        ? {
            photos: {
              download: { enabled: true, folder: join(dir, "library"), structure: "none", live_videos: false },
            },
          }
        : {}),
      findmy: { enabled: false },
      calls: { enabled: false },
    }),
  });
  const events: Array<{ name: string; payload: unknown }> = [];
  for (const name of ["photo.new", "photo.latest", "photo.count"] as Array<keyof EngineEvents>)
    engine.bus.on(events, name, (payload) => void events.push({ name, payload }));
  await engine.start();
  await enterCode(engine, "pics", ACCOUNT.code);
  await until(() => engine.snapshot("pics").state.services.photos.last_sync !== null, "the first sync");
  const photos = findPhotosSimulator(sim.url);
  if (photos === undefined) throw new Error("no photos simulator");
  return { sim, dir, engine, events, photos, snap: () => engine.snapshot("pics") };
}

const named = (events: Array<{ name: string; payload: unknown }>, name: string) =>
  events.filter((e) => e.name === name).map((e) => e.payload);

describe("engine: photos", () => {
  it("first run: latest and count without photo.new; a new photo: one photo.new with its thumbnail", async () => {
    const { engine, events, photos, snap } = await setup();
    expect(named(events, "photo.new")).toEqual([]);
    expect(named(events, "photo.latest")).toHaveLength(1);
    expect(named(events, "photo.count")).toEqual([{ account: "pics", count: 6 }]);
    expect(snap().photos.count).toBe(6);

    photos.addPhotos(DSID, 1);
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    const fresh = named(events, "photo.new") as EngineEvents["photo.new"][0][];
    expect(fresh).toHaveLength(1);
    const latest = named(events, "photo.latest") as EngineEvents["photo.latest"][0][];
    expect(latest).toHaveLength(1);
    expect(latest[0]?.asset.id).toBe(fresh[0]?.asset.id);
    expect([...(latest[0]?.thumbnail ?? Buffer.alloc(0)).subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(named(events, "photo.count")).toEqual([{ account: "pics", count: 7 }]);
    expect(snap().photos.latest?.asset.id).toBe(fresh[0]?.asset.id);

    // Nothing changed: nothing emitted.
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(events).toEqual([]);
  });

  it("a deleted or hidden photo updates the count (no photo.new)", async () => {
    const { engine, events, photos, snap } = await setup();
    const visible = photos.visiblePhotos(DSID);
    expect(visible).toHaveLength(6);
    events.length = 0;
    expect(photos.changePhoto(DSID, visible[0]?.assetRecordName ?? "", "delete")).toBe(true);
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(named(events, "photo.new")).toEqual([]);
    expect(named(events, "photo.count")).toEqual([{ account: "pics", count: 5 }]);
    expect(snap().photos.count).toBe(5);

    events.length = 0;
    expect(photos.changePhoto(DSID, visible[1]?.assetRecordName ?? "", "hide")).toBe(true);
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(named(events, "photo.count")).toEqual([{ account: "pics", count: 4 }]);
  });

  it("a photo added with an older addedDate than the newest known one is still announced", async () => {
    const { engine, events, photos, snap } = await setup();
    const library = photos.library(DSID);
    if (!library) throw new Error("no library");
    // A device that was offline for a month syncs a photo added back then.
    const latestBefore = snap().photos.latest?.asset.date_uploaded ?? "";
    const { zone, first } = library.addPhotos(1, Date.parse(latestBefore) - 30 * 24 * 3600_000);
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    const fresh = named(events, "photo.new") as EngineEvents["photo.new"][0][];
    expect(fresh.map((e) => e.asset.id)).toEqual([assetRecordName(zone, first)]);
    expect((fresh[0]?.asset.date_uploaded ?? latestBefore) < latestBefore).toBe(true);

    // Announced once: the next poll repeats nothing.
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(named(events, "photo.new")).toEqual([]);
  });

  it("a rejected sync token (BAD_REQUEST) recovers the photos added in between", async () => {
    const { engine, events, photos } = await setup();
    const added = photos.addPhotos(DSID, 2).map((p) => p.assetRecordName);
    photos.injectZoneError(DSID, { serverErrorCode: "BAD_REQUEST" });
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    const fresh = named(events, "photo.new") as EngineEvents["photo.new"][0][];
    expect(fresh.map((e) => e.asset.id).sort()).toEqual([...added].sort());

    events.length = 0;
    const [later] = photos.addPhotos(DSID, 1);
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect((named(events, "photo.new") as EngineEvents["photo.new"][0][]).map((e) => e.asset.id)).toEqual([
      later?.assetRecordName,
    ]);
  });

  it("a poll that fails after reading the change feed keeps the sync token: the photo is announced next time", async () => {
    const { sim, engine, events, photos, snap } = await setup();
    const [added] = photos.addPhotos(DSID, 1);
    // The count (records/query/batch) is read after the change feed: one 500 there fails this poll only.
    sim.faults.add({ endpoint: "photos.batch", kind: "status", status: 500, times: 1 });
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(sim.faults.list()).toEqual([]);
    expect(named(events, "photo.new")).toEqual([]);
    expect(snap().photos.count).toBe(6);

    await engine.execute("sync", { data_types: ["icpl.photos"] });
    const fresh = named(events, "photo.new") as EngineEvents["photo.new"][0][];
    expect(fresh.map((e) => e.asset.id)).toEqual([added?.assetRecordName]);
    expect(named(events, "photo.count")).toEqual([{ account: "pics", count: 7 }]);
  });

  it("a download that fails is retried on later polls and lands on disk exactly once", async () => {
    const { sim, dir, engine, events, photos, snap } = await setup({ download: true });
    const library = join(dir, "library");
    const [added] = photos.addPhotos(DSID, 1);
    // A 500 (a 503 would first go through the transport's backoff): every attempt of this poll fails.
    sim.faults.add({ endpoint: "photos.download", kind: "status", status: 500 });
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    // Announced right away (the file follows), nothing on disk yet.
    const fresh = named(events, "photo.new") as EngineEvents["photo.new"][0][];
    expect(fresh.map((e) => e.asset.id)).toEqual([added?.assetRecordName]);
    expect((await listFiles(library)).filter((f) => !f.endsWith(".part"))).toEqual([]);
    expect(snap().photos.latest?.asset.id).toBe(added?.assetRecordName);

    // Still failing: kept, not announced again.
    events.length = 0;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(named(events, "photo.new")).toEqual([]);
    expect((await listFiles(library)).filter((f) => !f.endsWith(".part"))).toEqual([]);

    sim.faults.clear();
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(named(events, "photo.new")).toEqual([]);
    const files = await listFiles(library);
    expect(files).toHaveLength(1);
    const original = fresh[0]?.asset.files.find((f) => f.role === "original");
    expect((await stat(join(library, files[0] ?? ""))).size).toBe(original?.size);

    // Done: no further download requests.
    const served = sim.requests().filter((r) => r.route === "photos.download").length;
    await engine.execute("sync", { data_types: ["icpl.photos"] });
    expect(await listFiles(library)).toEqual(files);
    expect(sim.requests().filter((r) => r.route === "photos.download").length).toBe(served);
  });
});
