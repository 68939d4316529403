/**
 * Photos benchmark (not a timed test): prints one JSON document on stdout.
 *
 * - enumerate: listing 10 000 and 100 000 assets with PhotosService (4 pages requested ahead) against
 *   the reference, a plain serial lister (one page after the other, JSON parsed, nothing validated),
 *   in the same run. Each lister is its own process on the compiled `dist/` (bench/lib/photos-child.js),
 *   so its RSS is the client's alone, with the installed command's Node settings (`lean`:
 *   src/cli/node-flags.ts and MALLOC_ARENA_MAX=2) and, for comparison, with Node's defaults. The
 *   simulator answers each records/query after LATENCY_MS, as a distant server does; the same walk
 *   without added latency is reported too (`no_latency_100000`).
 *   Targets: peak RSS ≤ 120 MB at 100 000 assets, flat in library size, ≥ 3× faster than the reference.
 * - detect: requests and time to find 0 and 1 new assets in 10 000 and 100 000 asset libraries.
 * - download: throughput for 200 files of 2 MB through the Downloader (to disk, with .part/rename/index)
 *   vs a plain undici client reading the same URLs (and writing them to disk), same concurrency, same run.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { request } from "undici";
import { DownloadIndex } from "../src/icloud/photos/download-index.ts";
import { Downloader } from "../src/icloud/photos/downloader.ts";
import { PhotosService } from "../src/icloud/photos/photos-service.ts";
import type { PhotoItem } from "../src/icloud/photos/types.ts";
import { buildDist, mb, runPhotosChild, signedIn, startPhotosSimulator } from "./lib/photos-world.ts";

const LATENCY_MS = 100;
const TARGET_PEAK_MB = 120;
const TARGET_SPEEDUP = 3;
const FILES = 200;
const FILE_SIZE = 2_000_000;
const CONCURRENCY = 3;

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
    "big@bench.local": { count: 100_000, seed: 1 },
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
    await buildDist();
    // Libraries are generated before timing (the simulator builds them lazily).
    control.library(dsid("big@bench.local"));
    control.library(dsid("mid@bench.local"));
    const listing = async (appleId: string) => {
      const client = await runPhotosChild("enumerate", sim.url, appleId, "lean");
      const clientDefaults = await runPhotosChild("enumerate", sim.url, appleId, "defaults");
      const reference = await runPhotosChild("serial", sim.url, appleId, "lean");
      return {
        client,
        client_node_defaults: clientDefaults,
        serial_reference: reference,
        speedup: Math.round((Number(reference["ms"]) / Number(client["ms"])) * 10) / 10,
      };
    };
    const noLatency = await listing("big@bench.local");
    sim.faults.add({ endpoint: "photos.records.query", kind: "latency", delay_ms: LATENCY_MS });
    const listed10k = await listing("mid@bench.local");
    const listed100k = await listing("big@bench.local");
    sim.faults.clear();
    const peak = (run: { client: Record<string, unknown> }) => Number(run.client["peak_rss_mb"]);
    const enumerate = {
      child_node: "lean: the installed command's flags (src/cli/node-flags.ts) and MALLOC_ARENA_MAX=2",
      prefetch: 4,
      simulated_latency_ms: LATENCY_MS,
      library_10000: listed10k,
      library_100000: listed100k,
      no_latency_100000: noLatency,
      peak_rss_growth_10k_to_100k_mb: Math.round((peak(listed100k) - peak(listed10k)) * 10) / 10,
      targets: {
        peak_rss_mb: TARGET_PEAK_MB,
        speedup: TARGET_SPEEDUP,
        peak_met: peak(listed100k) <= TARGET_PEAK_MB && peak(listed10k) <= TARGET_PEAK_MB,
        speedup_met: listed10k.speedup >= TARGET_SPEEDUP && listed100k.speedup >= TARGET_SPEEDUP,
      },
    };
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
      detect_new: detection,
      download: downloads,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sim.close();
  }
}

await main();
