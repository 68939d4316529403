/**
 * `photos.download.mode: all` against the simulator over real HTTP: the whole library on disk once,
 * without announcing it, progress in the account state and on the bus, new photos followed,
 * deletions kept or archived, albums as links, and a requested sync that repairs the folder.
 */
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AccountState } from "../../../../src/engine/account-state.ts";
import type { EngineEvents } from "../../../../src/engine/events.ts";
import { findPhotosSimulator } from "../../../../src/simulator/photos/index.ts";
import { engineHarness } from "../../../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../../../support/harness.ts";
import { expectMirrored, listFiles, readIndex } from "../../../support/photos-library.ts";

const ACCOUNT: TestAccount = { appleId: "mirror@example.com", password: "mirror password", code: "123456" };
const ID = "jane";

afterEach(cleanUp);

/** A mixed library: Live Photos, videos, RAW, PNG, hidden and deleted items, hostile names. */
const MIXED = {
  count: 36,
  seed: 13,
  live_photo_ratio: 0.3,
  video_ratio: 0.12,
  raw_ratio: 0.1,
  png_ratio: 0.1,
  hidden_count: 2,
  deleted_count: 2,
  hostile_filenames: true,
  original_size: { min: 20_000, max: 90_000 },
};

async function setup(photos: Record<string, unknown>, download: Record<string, unknown>) {
  const { sim, dir, engine } = await engineHarness({
    account: ACCOUNT,
    spec: { mfa: { kind: "none" }, photos },
    dirPrefix: "i2m-mirror-",
    id: ID,
    settings: (dir) => ({
      photos: { download: { enabled: true, folder: join(dir, "library"), mode: "all", ...download } },
      findmy: { enabled: false },
      calls: { enabled: false },
    }),
  });
  const events: Array<{ name: string; payload: unknown }> = [];
  for (const name of ["photo.new", "photo.backfill", "account.state"] as Array<keyof EngineEvents>)
    engine.bus.on(events, name, (payload) => void events.push({ name, payload }));
  await engine.start();
  await until(() => engine.snapshot(ID).state.services.photos.last_sync !== null, "the first sync", 20_000);
  const control = findPhotosSimulator(sim.url);
  const dsid = control?.ctx.accounts().find((a) => a.appleId === ACCOUNT.appleId)?.dsid;
  if (!control || !dsid) throw new Error("no photos simulator");
  const library = join(dir, "library");
  const indexFile = join(dir, "downloads", `${ID}.json`);
  const visible = () => control.visiblePhotos(dsid).map((p) => p.assetRecordName);
  const sync = () => engine.execute("sync", { account: ID, data_types: ["icpl.photos"] });
  return { sim, dir, engine, events, control, dsid, library, indexFile, visible, sync };
}

const named = <K extends keyof EngineEvents>(events: Array<{ name: string; payload: unknown }>, name: K) =>
  events.filter((e) => e.name === name).map((e) => e.payload as EngineEvents[K][0]);

describe("photos: mirroring the whole library (download.mode: all)", () => {
  it("downloads every visible asset once, byte for byte, without announcing them, with progress; then follows new photos", async () => {
    const w = await setup(MIXED, { live_videos: true, structure: "{yyyy}/{mm}" });
    const files = await expectMirrored({ ...w, expected: w.visible() });
    // Live Photos came with their video (`_HEVC.MOV` next to a HEIC), and hostile names stayed inside.
    expect(files.some((f) => f.path.endsWith("_HEVC.MOV"))).toBe(true);
    expect(files.every((f) => !f.path.includes("..") && !f.path.startsWith("/"))).toBe(true);
    expect(named(w.events, "photo.new")).toEqual([]);

    const progress = named(w.events, "photo.backfill").map((e) => e.progress);
    expect(progress.at(-1)).toMatchObject({ state: "done", items_total: w.visible().length, percent: 100 });
    expect(progress.at(-1)?.items_done).toBe(w.visible().length);
    const messages = named(w.events, "account.state")
      .map((s: AccountState) => s.progressMsg)
      .filter((m): m is string => m?.startsWith("Downloading the photo library") === true);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.at(-1)).toMatch(
      /^Downloading the photo library: \d+ of \d+ \([\d.]+%\), \d+ files, [\d.]+ [kMG]?B/,
    );
    expect(w.engine.snapshot(ID).photos.backfill).toMatchObject({ state: "done", percent: 100 });

    // Nothing is fetched again on the next poll; a new photo is announced and downloaded.
    const served = w.sim.requests().filter((r) => r.route === "photos.download").length;
    await w.sync();
    w.events.length = 0;
    const [added] = w.control.addPhotos(w.dsid, 1);
    await w.sync();
    expect(named(w.events, "photo.new").map((e) => e.asset.id)).toEqual([added?.assetRecordName]);
    await expectMirrored({ ...w, expected: w.visible() });
    const fetched = w.sim.requests().filter((r) => r.route === "photos.download").length - served;
    expect(fetched).toBeGreaterThanOrEqual(1);
    expect(fetched).toBeLessThanOrEqual(3); // the new photo's files and its thumbnail, nothing of the library
  });

  it("a requested sync checks every file: one removed locally is fetched again", async () => {
    const w = await setup({ ...MIXED, hostile_filenames: false, count: 12 }, { live_videos: false });
    const files = await expectMirrored({ ...w, expected: w.visible() });
    const victim = files[0];
    if (!victim) throw new Error("no files");
    await rm(join(w.library, victim.path));
    await w.sync();
    await expectMirrored({ ...w, expected: w.visible() });
  });

  it("keeps the files of deleted and hidden photos by default", async () => {
    const w = await setup({ ...MIXED, hostile_filenames: false, count: 10 }, { live_videos: false });
    const [a, b] = w.visible();
    const before = await listFiles(w.library);
    w.control.changePhoto(w.dsid, a ?? "", "delete");
    w.control.changePhoto(w.dsid, b ?? "", "hide");
    await w.sync();
    expect(await listFiles(w.library)).toEqual(before);
  });

  it("on_delete: archive moves them to _Archive/ (same relative path), and a restored photo comes back", async () => {
    const w = await setup(
      { ...MIXED, hostile_filenames: false, count: 10 },
      { live_videos: false, on_delete: "archive" },
    );
    const [a, b, c] = w.visible();
    const { files } = await readIndex(w.indexFile);
    const pathOf = (id: string | undefined) => files.find((f) => f.asset === id)?.path ?? "";
    w.control.changePhoto(w.dsid, a ?? "", "delete");
    w.control.changePhoto(w.dsid, b ?? "", "hide");
    w.control.changePhoto(w.dsid, c ?? "", "expunge");
    await w.sync();
    const archived = (await listFiles(join(w.library, "_Archive"))).sort();
    expect(archived).toEqual([pathOf(a), pathOf(b), pathOf(c)].sort());
    await expectMirrored({ ...w, expected: w.visible(), ignore: ["_Archive"] });

    w.control.changePhoto(w.dsid, b ?? "", "unhide");
    await w.sync();
    await expectMirrored({ ...w, expected: w.visible(), ignore: ["_Archive"] });
    expect(w.visible()).toContain(b);
  });

  it("albums: true mirrors user albums as folders of hard links, kept current", async () => {
    const albums = [
      { name: "Holidays/../2024", share: 0.4 },
      { name: "Family", folder: "People", share: 0.3 },
      { name: "Family", share: 0.2 },
    ];
    const w = await setup(
      { ...MIXED, hostile_filenames: false, count: 30, albums },
      { live_videos: false, albums: true },
    );
    const { files } = await readIndex(w.indexFile);
    const links = await listFiles(join(w.library, "_Albums"));
    const folders = [...new Set(links.map((l) => l.split("/").slice(0, -1).join("/")))].sort();
    expect(folders).toEqual(["Family", "Holidays_._2024", "People/Family"]);
    // Each link is the library file itself (same inode), never a copy.
    for (const link of links) {
      const name = link.split("/").at(-1) ?? "";
      const file = files.find((f) => f.path.split("/").at(-1) === name.replace(/-[0-9a-f]{8}(\.\w+)$/, "$1"));
      expect(file, link).toBeDefined();
      const [a, b] = await Promise.all([
        stat(join(w.library, "_Albums", link)),
        stat(join(w.library, file?.path ?? "")),
      ]);
      expect(a.ino).toBe(b.ino);
    }
    // The album folders hold exactly their members.
    const holidays = links.filter((l) => l.startsWith("Holidays_._2024/"));
    expect(holidays.length).toBeGreaterThan(0);
    const member = files.find((f) => holidays.some((l) => l.endsWith(`/${f.path.split("/").at(-1)}`)));
    w.control.changePhoto(w.dsid, member?.asset ?? "", "expunge");
    await w.sync();
    const after = (await listFiles(join(w.library, "_Albums"))).filter((l) => l.startsWith("Holidays_._2024/"));
    expect(after).toHaveLength(holidays.length - 1);
  });
});
