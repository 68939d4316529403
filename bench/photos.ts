/**
 * Photos benchmark (not a timed test): prints one JSON document on stdout.
 *
 * - enumerate: time, CloudKit requests and peak RSS to list 100 000 assets; the client runs in a child
 *   process so its RSS is not mixed with the simulator's, once as is and once with a 64 MB V8 heap cap
 *   (RSS alone mostly shows how lazily V8 collects).
 * - detect: requests and time to find 0 and 1 new assets in 10 000 and 100 000 asset libraries.
 * - download: throughput for 200 files of 2 MB through the Downloader (to disk, with .part/rename/index)
 *   vs a plain undici client reading the same URLs (and writing them to disk), same concurrency, same run.
 */
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { request } from "undici";
import { DownloadIndex } from "../src/icloud/photos/download-index.ts";
import { Downloader } from "../src/icloud/photos/downloader.ts";
import { PhotosService } from "../src/icloud/photos/photos-service.ts";
import type { PhotoItem } from "../src/icloud/photos/types.ts";
import { mb, signedIn, startPhotosSimulator } from "./lib/photos-world.ts";

const ENUMERATE_COUNT = 100_000;
const FILES = 200;
const FILE_SIZE = 2_000_000;
const CONCURRENCY = 3;

async function enumerateChild(): Promise<void> {
  const session = await signedIn(process.env["BENCH_SIM_URL"] ?? "", process.env["BENCH_APPLE_ID"] ?? "");
  const photos = new PhotosService(session);
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const cpu = process.cpuUsage();
  let assets = 0;
  for await (const _ of photos.enumerate({ index: "asset_date" })) assets++;
  const ms = Math.round(performance.now() - start);
  const used = process.cpuUsage(cpu);
  const peak = process.resourceUsage().maxRSS * 1024;
  const result = {
    assets,
    ms,
    client_cpu_ms: Math.round((used.user + used.system) / 1000),
    requests: photos.requestCount,
    peak_rss_mb: mb(peak),
    rss_before_mb: mb(rssBefore),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function detect(url: string, appleId: string, addOne: () => void) {
  const photos = new PhotosService(await signedIn(url, appleId));
  const { nextState } = await photos.newAssets(undefined);
  const measure = async (state: typeof nextState) => {
    const requests = photos.requestCount;
    const start = performance.now();
    const changes = await photos.newAssets(state);
    const ms = Math.round((performance.now() - start) * 10) / 10;
    return { found: changes.assets.length, requests: photos.requestCount - requests, ms, next: changes.nextState };
  };
  const zero = await measure(nextState);
  addOne();
  const one = await measure(zero.next);
  return {
    zero_new: { found: zero.found, requests: zero.requests, ms: zero.ms },
    one_new: { found: one.found, requests: one.requests, ms: one.ms },
  };
}

async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

async function download(url: string, appleId: string) {
  const session = await signedIn(url, appleId);
  const photos = new PhotosService(session);
  const items: PhotoItem[] = [];
  for await (const item of photos.enumerate()) items.push(item);
  const originals = items.map((item) => {
    const file = item.asset.files.find((f) => f.role === "original");
    return { size: file?.size ?? 0, url: file ? (item.downloads.get(file.id) ?? "") : "" };
  });
  const totalBytes = originals.reduce((sum, f) => sum + f.size, 0);

  let plainBytes = 0;
  const plainStart = performance.now();
  await pool(originals, CONCURRENCY, async (file) => {
    const res = await request(file.url);
    for await (const chunk of res.body) plainBytes += (chunk as Buffer).length;
  });
  const plainMs = performance.now() - plainStart;

  const dir = await mkdtemp(path.join(tmpdir(), "bench-photos-"));
  try {
    // The same plain client writing each body to a file: separates disk cost from downloader overhead.
    let n = 0;
    const diskStart = performance.now();
    await pool(originals, CONCURRENCY, async (file) => {
      const res = await request(file.url);
      await pipeline(res.body, createWriteStream(path.join(dir, `plain-${n++}`)));
    });
    const diskMs = performance.now() - diskStart;

    const index = await DownloadIndex.open(path.join(dir, "downloads.jsonl"));
    const downloader = new Downloader({
      libraryDir: path.join(dir, "library"),
      index,
      fetcher: session,
      concurrency: CONCURRENCY,
    });
    const start = performance.now();
    const summary = await downloader.run(items);
    const ms = performance.now() - start;
    await index.close();
    const rate = (bytes: number, time: number) => Math.round((bytes / 1e6 / (time / 1000)) * 10) / 10;
    return {
      files: items.length,
      total_mb: mb(totalBytes),
      concurrency: CONCURRENCY,
      downloader: {
        ms: Math.round(ms),
        mb_per_s: rate(summary.bytes, ms),
        downloaded: summary.downloaded,
        failed: summary.failed,
      },
      plain_undici_read: { ms: Math.round(plainMs), mb_per_s: rate(plainBytes, plainMs) },
      plain_undici_to_disk: { ms: Math.round(diskMs), mb_per_s: rate(totalBytes, diskMs) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const accounts = {
    "big@bench.local": { count: ENUMERATE_COUNT, seed: 1 },
    "mid@bench.local": { count: 10_000, seed: 2 },
    "files@bench.local": {
      count: FILES,
      seed: 3,
      video_ratio: 0,
      live_photo_ratio: 0,
      raw_ratio: 0,
      original_size: { min: FILE_SIZE, max: FILE_SIZE },
    },
  };
  const { sim, control, dsid } = await startPhotosSimulator(accounts);
  try {
    // Build the big library before timing (the simulator generates it lazily).
    control.library(dsid("big@bench.local"));
    const runChild = async (nodeFlags: string[]): Promise<unknown> => {
      const child = await promisify(execFile)(
        process.execPath,
        [...nodeFlags, import.meta.filename, "--enumerate-child"],
        {
          env: { ...process.env, BENCH_SIM_URL: sim.url, BENCH_APPLE_ID: "big@bench.local" },
          maxBuffer: 1 << 20,
        },
      );
      return JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as unknown;
    };
    const enumerate = await runChild([]);
    // Same walk with the V8 heap capped at 64 MB: it completes, so memory does not grow with the library.
    const enumerateHeap64 = await runChild(["--max-old-space-size=64"]);
    const detection: Record<string, unknown> = {};
    for (const [label, appleId] of [
      ["library_10000", "mid@bench.local"],
      ["library_100000", "big@bench.local"],
    ]) {
      if (!label || !appleId) continue;
      detection[label] = await detect(sim.url, appleId, () => control.addPhotos(dsid(appleId), 1));
    }
    const downloads = await download(sim.url, "files@bench.local");
    const report = {
      bench: "photos",
      node: process.version,
      enumerate,
      enumerate_heap_capped_64mb: enumerateHeap64,
      detect_new: detection,
      download: downloads,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sim.close();
  }
}

if (process.argv[2] === "--enumerate-child") await enumerateChild();
else await main();
