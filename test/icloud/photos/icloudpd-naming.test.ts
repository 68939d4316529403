/**
 * The mirror's file names and sizes against icloudpd's documented defaults, for a simulated library
 * with Live Photos, RAW, PNG, videos and photos of the same name:
 * - the original keeps its iCloud name (`IMG_1234.HEIC`, `IMG_1234.DNG`, …);
 * - a Live Photo's video is `IMG_1234_HEVC.MOV` next to a HEIC still (`--live-photo-mov-filename-policy
 *   suffix`, the default; a JPEG still's video is `IMG_1234.MOV`);
 * - a second, different photo of the same name is `IMG_1234-<size>.HEIC` (`--file-match-policy
 *   name-size-dedup-with-suffix`, the default), the first one seen (newest first) keeping the name.
 * RAW+JPEG pairs are one asset whose original is the JPEG; like icloudpd's default `--size original`,
 * only that original is fetched.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PhotosConfigSchema } from "../../../src/engine/services/photos/config.ts";
import { indexFileFor, libraryZones, openLibrary } from "../../../src/engine/services/photos/library.ts";
import { PhotosService } from "../../../src/icloud/photos/photos-service.ts";
import type { PhotoItem } from "../../../src/icloud/photos/types.ts";
import { silentLogger } from "../../../src/logger.ts";
import { listFiles } from "../../support/photos-library.ts";
import { type PhotosWorld, photosWorld } from "../../support/photos-world.ts";

let world: PhotosWorld | undefined;
let dir: string | undefined;
afterEach(async () => {
  await world?.sim.close();
  world = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** icloudpd's names for a library processed newest added first, into one flat folder. */
function icloudpdNames(items: readonly PhotoItem[]): Map<string, number> {
  const taken = new Map<string, number>();
  const place = (name: string, size: number): void => {
    const existing = taken.get(name);
    if (existing === undefined) taken.set(name, size);
    else if (existing !== size) {
      const dot = name.lastIndexOf(".");
      taken.set(`${name.slice(0, dot)}-${size}${name.slice(dot)}`, size);
    }
  };
  for (const { asset } of items) {
    const original = asset.files.find((f) => f.role === "original");
    if (original) place(asset.filename, original.size);
    const video = asset.files.find((f) => f.role === "live_video");
    if (video) {
      const dot = asset.filename.lastIndexOf(".");
      const stem = asset.filename.slice(0, dot);
      const heic = asset.filename.slice(dot + 1).toLowerCase() === "heic";
      place(`${stem}${heic ? "_HEVC" : ""}.MOV`, video.size);
    }
  }
  return taken;
}

describe("file names as icloudpd writes them", () => {
  it("Live Photos, RAW, PNG, videos and duplicate names: same names and sizes", async () => {
    world = await photosWorld({
      count: 60,
      seed: 4,
      live_photo_ratio: 0.4,
      video_ratio: 0.1,
      raw_ratio: 0.15,
      png_ratio: 0.1,
      duplicate_name_ratio: 0.25,
      original_size: { min: 5_000, max: 40_000 },
    });
    dir = await mkdtemp(path.join(tmpdir(), "i2m-naming-"));
    const service = new PhotosService(world.session);
    const items: PhotoItem[] = [];
    for await (const item of service.enumerate({ order: "desc" })) items.push(item);
    const expected = icloudpdNames(items);
    // The library really has what this test is about.
    expect([...expected.keys()].some((name) => /_HEVC\.MOV$/.test(name))).toBe(true);
    expect([...expected.keys()].some((name) => /\.DNG$/.test(name))).toBe(true);
    expect([...expected.keys()].some((name) => /-\d+\.\w+$/.test(name))).toBe(true);

    const config = PhotosConfigSchema.parse({ download: { structure: "none", live_videos: true, concurrency: 1 } });
    const folder = path.join(dir, "library");
    const library = await openLibrary({
      transport: world.session,
      service,
      download: config.download,
      folder,
      indexFile: indexFileFor(dir, "naming", folder, null),
      log: silentLogger,
    });
    try {
      const summary = await library.mirror.walk(await libraryZones(service, "private"), { cursor: {} });
      expect(summary).toMatchObject({ failed: 0, complete: true });
    } finally {
      await library.close();
    }
    const files = await listFiles(folder);
    expect(files).toEqual([...expected.keys()].sort());
    for (const name of files) expect((await stat(path.join(folder, name))).size, name).toBe(expected.get(name));
  });
});
