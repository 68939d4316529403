import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DownloadIndex } from "../../../src/icloud/photos/download-index.ts";
import { Downloader, type DownloaderOptions } from "../../../src/icloud/photos/downloader.ts";
import { PhotosService } from "../../../src/icloud/photos/photos-service.ts";
import type { PhotoItem } from "../../../src/icloud/photos/types.ts";
import { type PhotosWorld, photosWorld } from "../../support/photos-world.ts";

let world: PhotosWorld | undefined;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dl-sim-"));
});
afterEach(async () => {
  await world?.sim.close();
  world = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

async function items(photos: PhotosService): Promise<PhotoItem[]> {
  const out: PhotoItem[] = [];
  for await (const item of photos.enumerate()) out.push(item);
  return out;
}

/** A library of one photo of `original_size` bytes (kept in `world` for the clean-up): its service, the item and its original's size. */
async function onePhoto(seed: number, original_size: { min: number; max: number }) {
  const w = await photosWorld({ count: 1, seed, video_ratio: 0, original_size });
  world = w;
  const photos = new PhotosService(w.session);
  const [item] = await items(photos);
  if (!item) throw new Error("no photo");
  return { w, photos, item, size: item.asset.files.find((f) => f.role === "original")?.size ?? 0 };
}

async function open(w: PhotosWorld, photos: PhotosService, options: Partial<DownloaderOptions> = {}) {
  const index = await DownloadIndex.open(path.join(dir, "state", "downloads.jsonl"));
  const downloader = new Downloader({
    libraryDir: path.join(dir, "library"),
    index,
    fetcher: w.session,
    refresh: (item, signal) => photos.refresh(item, signal),
    ...options,
  });
  return { index, downloader };
}

/** Every original on disk exactly once with its record size, and nothing else. */
async function expectComplete(list: PhotoItem[]): Promise<void> {
  const files = await listFiles(path.join(dir, "library"));
  expect(files.filter((f) => f.endsWith(".part"))).toEqual([]);
  expect(files).toHaveLength(list.length);
  const sizes = (await Promise.all(files.map(async (f) => (await stat(path.join(dir, "library", f))).size))).sort();
  const expected = list.map((i) => i.asset.files.find((f) => f.role === "original")?.size).sort();
  expect(sizes).toEqual(expected);
}

/** The original as the simulator serves it in one clean request. */
async function originalBytes(w: PhotosWorld, item: PhotoItem): Promise<Buffer> {
  const file = item.asset.files.find((f) => f.role === "original");
  const response = await w.session.download(item.downloads.get(file?.id ?? "") ?? "");
  expect(response.status).toBe(200);
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** SHA-256 of the original as the simulator serves it in one clean request. */
async function originalHash(w: PhotosWorld, item: PhotoItem): Promise<string> {
  const file = item.asset.files.find((f) => f.role === "original");
  const response = await w.session.download(item.downloads.get(file?.id ?? "") ?? "");
  expect(response.status).toBe(200);
  const hash = createHash("sha256");
  for await (const chunk of response.body) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

describe("Downloader against the simulator", () => {
  it("downloads originals once; a killed run resumes without partial, missing or duplicate files", async () => {
    world = await photosWorld({ count: 14, seed: 21, video_ratio: 0, original_size: { min: 400_000, max: 2_000_000 } });
    const photos = new PhotosService(world.session);
    const list = await items(photos);

    const first = await open(world, photos, { concurrency: 2 });
    const controller = new AbortController();
    const running = first.downloader.run(list, { signal: controller.signal });
    while (!(await listFiles(path.join(dir, "library"))).some((f) => f.endsWith(".part"))) {
      await new Promise((r) => setTimeout(r, 2));
    }
    controller.abort();
    await expect(running).rejects.toThrow();
    await first.index.close();

    const second = await open(world, photos, { concurrency: 3 });
    const summary = await second.downloader.run(list);
    await second.index.close();
    expect(summary.failed).toBe(0);
    await expectComplete(list);

    const downloads = world.served("photos.download");
    const third = await open(world, photos);
    const results: boolean[] = [];
    const again = await third.downloader.run(list, { onResult: (r) => results.push(r.isNew) });
    await third.index.close();
    expect(again).toMatchObject({ downloaded: 0, skipped: list.length, failed: 0 });
    expect(results.every((isNew) => !isNew)).toBe(true);
    expect(world.served("photos.download")).toBe(downloads);
  });

  it("keeps hostile iCloud filenames inside the library folder", async () => {
    world = await photosWorld({
      count: 40,
      seed: 22,
      hostile_filenames: true,
      video_ratio: 0,
      original_size: { min: 1000, max: 5000 },
    });
    const photos = new PhotosService(world.session);
    const list = await items(photos);
    const { index, downloader } = await open(world, photos, { folderStructure: "none" });
    const summary = await downloader.run(list);
    await index.close();
    expect(summary).toMatchObject({ failed: 0, downloaded: list.length });
    const everything = await listFiles(dir);
    expect(everything.filter((f) => !f.startsWith(`library${path.sep}`) && !f.startsWith(`state${path.sep}`))).toEqual(
      [],
    );
    await expectComplete(list);
  });

  it("re-queries the record once when the signed URL expired", async () => {
    world = await photosWorld({ count: 3, seed: 23, original_size: { min: 1000, max: 5000 } });
    const photos = new PhotosService(world.session);
    const list = await items(photos);
    world.sim.clock.advance(2 * 3600_000);
    const lookups = world.sim.requests().filter((r) => r.route === "photos.records.lookup").length;
    const { index, downloader } = await open(world, photos, { liveVideos: true });
    const summary = await downloader.run(list);
    await index.close();
    expect(summary.failed).toBe(0);
    // The 2 h jump also ends the web session: count the lookups that CloudKit answered (after re-auth).
    const answered = world.sim.requests().filter((r) => r.route === "photos.records.lookup" && r.status === 200);
    expect(answered.length - lookups).toBe(list.length);
  });

  it("never keeps a body cut short cleanly: the file fails, and the next run resumes it to the exact bytes", async () => {
    const { w, photos, item, size } = await onePhoto(24, { min: 50_000, max: 60_000 });
    const library = path.join(dir, "library");
    const downloads = () =>
      w.sim
        .requests()
        .filter((r) => r.route === "photos.download")
        .map((r) => r.status);
    const run = async () => {
      const opened = await open(w, photos, { folderStructure: "none" });
      const results: Array<{ status: string; code?: string; message?: string }> = [];
      const summary = await opened.downloader.run([item], {
        onResult: (r) =>
          results.push({ status: r.status, ...(r.error ? { code: r.error.code, message: r.error.message } : {}) }),
      });
      await opened.index.close();
      return { summary, results };
    };

    // Each of the run's 3 attempts gets a clean 200 with only 10 000 bytes (Content-Length matching):
    // another length than the record's, so nothing is written.
    w.sim.faults.add({ endpoint: "photos.download", kind: "short_body", bytes: 10_000, times: 3 });
    expect(await run()).toEqual({
      summary: { downloaded: 0, skipped: 0, failed: 1, bytes: 0 },
      results: [
        {
          status: "failed",
          code: "DOWNLOAD_FAILED",
          message: `the file changed in iCloud during the download (10000 bytes, the record says ${size}); retried later`,
        },
      ],
    });
    expect(await listFiles(library)).toEqual([]);
    expect(downloads()).toEqual([200, 200, 200]);

    // With 20 000 bytes already in the part, each resume gets a clean 206 of 10 000 bytes: refused, the
    // part left exactly as it was.
    const part = `.${item.asset.filename}.${createHash("sha256").update(item.asset.id).digest("hex").slice(0, 8)}.part`;
    const whole = await originalBytes(w, item);
    await writeFile(path.join(library, part), whole.subarray(0, 20_000));
    w.sim.faults.add({ endpoint: "photos.download", kind: "short_body", bytes: 10_000, times: 3 });
    expect(await run()).toEqual({
      summary: { downloaded: 0, skipped: 0, failed: 1, bytes: 0 },
      results: [
        {
          status: "failed",
          code: "DOWNLOAD_FAILED",
          message: `download announced 10000 bytes where ${size - 20_000} were expected; not written`,
        },
      ],
    });
    expect(await listFiles(library)).toEqual([part]);
    expect(await readFile(path.join(library, part))).toEqual(whole.subarray(0, 20_000));
    expect(w.sim.faults.list()).toEqual([]);

    // The next run resumes from the part to the exact bytes.
    const before = downloads().length;
    expect(await run()).toEqual({
      summary: { downloaded: 1, skipped: 0, failed: 0, bytes: size },
      results: [{ status: "downloaded" }],
    });
    expect(downloads().slice(before)).toEqual([206]);
    expect(await listFiles(library)).toEqual([item.asset.filename]);
    expect(await readFile(path.join(library, item.asset.filename))).toEqual(whole);
  });

  it("an index that cannot be written leaves no file under the final name; the next run adds no duplicate", async () => {
    const { w, photos, item, size } = await onePhoto(25, { min: 20_000, max: 30_000 });
    const library = path.join(dir, "library");
    const first = await open(w, photos, { folderStructure: "none" });
    // A closed index refuses every line (STORE_FAILED), like a full or read-only state folder.
    await first.index.close();
    const results: Array<{ status: string; code?: string }> = [];
    await first.downloader.run([item], {
      onResult: (r) => results.push({ status: r.status, ...(r.error ? { code: r.error.code } : {}) }),
    });
    expect(results).toEqual([{ status: "failed", code: "STORE_FAILED" }]);
    // Only the complete `.part`: a file under the final name would be one the index does not know.
    const parts = await listFiles(library);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/^\..*\.part$/);
    expect((await stat(path.join(library, parts[0] ?? ""))).size).toBe(size);

    // A restart (the index as written on disk) finishes it from the `.part`, under the original name.
    const downloads = w.served("photos.download");
    const second = await open(w, photos, { folderStructure: "none" });
    expect(await second.downloader.run([item])).toMatchObject({ downloaded: 1, failed: 0 });
    await second.index.close();
    expect(await listFiles(library)).toEqual([item.asset.filename]);
    expect(w.served("photos.download")).toBe(downloads);
    expect(await sha256(path.join(library, item.asset.filename))).toBe(await originalHash(w, item));
  });
});
