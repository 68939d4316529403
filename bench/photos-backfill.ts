/**
 * Library download benchmark (not a timed test): prints one JSON document on stdout.
 *
 * - throughput: 200 files of 2 MB, the Downloader (through the mirror: `.part`, rename, index) vs a
 *   plain undici client writing the same URLs to disk, same concurrency, same run; rounds alternate
 *   (whoever writes second pays for the first one's dirty pages) and the best of each counts.
 * - backfill_10000: `download.mode: all` on 10 000 simulated assets to disk in a child process on the
 *   compiled `dist/` (bench/lib/photos-child.js: its RSS apart from the simulator's), with the
 *   installed command's Node settings (src/cli/node-flags.ts, MALLOC_ARENA_MAX=2) and, for
 *   comparison, Node's defaults: files per second, peak RSS and memory at each quarter.
 * - backfill_100000: the same walk on 100 000 small assets: peak RSS and RSS at each quarter, to see
 *   that memory stays flat while the library grows. Target: peak RSS ≤ 120 MB.
 * See bench/README.md for what was found and changed.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { request } from "undici";
import { PhotosConfigSchema } from "../src/engine/services/photos/config.ts";
import { indexFileFor, libraryZones, openLibrary } from "../src/engine/services/photos/library.ts";
import { PhotosService } from "../src/icloud/photos/photos-service.ts";
import type { PhotoItem } from "../src/icloud/photos/types.ts";
import { silentLogger } from "../src/logger.ts";
import { buildDist, mb, runPhotosChild, signedIn, startPhotosSimulator } from "./lib/photos-world.ts";

const CONCURRENCY = 3;
const ROUNDS = 3;

async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

async function mirrorInto(
  session: Awaited<ReturnType<typeof signedIn>>,
  dir: string,
  onProgress?: (done: number, total: number) => void,
) {
  const service = new PhotosService(session);
  const config = PhotosConfigSchema.parse({
    download: { structure: "{yyyy}/{mm}", live_videos: false, concurrency: CONCURRENCY },
  });
  const folder = path.join(dir, "library");
  const library = await openLibrary({
    transport: session,
    service,
    download: config.download,
    folder,
    indexFile: indexFileFor(dir, "bench", folder, folder),
    log: silentLogger,
  });
  try {
    return await library.mirror.walk(await libraryZones(service, "private"), {
      cursor: {},
      onProgress: (p) => onProgress?.(p.items_done, p.items_total),
    });
  } finally {
    await library.close();
  }
}

async function throughput(url: string, appleId: string) {
  const session = await signedIn(url, appleId);
  const items: PhotoItem[] = [];
  for await (const item of new PhotosService(session).enumerate()) items.push(item);
  const urls = items.map((item) => {
    const file = item.asset.files.find((f) => f.role === "original");
    return { size: file?.size ?? 0, url: file ? (item.downloads.get(file.id) ?? "") : "" };
  });
  const bytes = urls.reduce((sum, f) => sum + f.size, 0);
  const plain: number[] = [];
  const downloader: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ["plain", "downloader"] : ["downloader", "plain"]) {
      const dir = await mkdtemp(path.join(tmpdir(), "bench-backfill-"));
      try {
        const start = performance.now();
        if (which === "plain") {
          let n = 0;
          await pool(urls, CONCURRENCY, async (file) => {
            const res = await request(file.url);
            await pipeline(res.body, createWriteStream(path.join(dir, `plain-${n++}`)));
          });
          plain.push(performance.now() - start);
        } else {
          const summary = await mirrorInto(session, dir);
          if (summary.downloaded !== items.length)
            throw new Error(`downloaded ${summary.downloaded} of ${items.length}`);
          downloader.push(performance.now() - start);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  const best = (list: number[]) => Math.min(...list);
  const rate = (ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
  return {
    files: items.length,
    total_mb: mb(bytes),
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    plain_undici_to_disk: {
      best_ms: Math.round(best(plain)),
      mb_per_s: rate(best(plain)),
      all_ms: plain.map(Math.round),
    },
    downloader: {
      best_ms: Math.round(best(downloader)),
      mb_per_s: rate(best(downloader)),
      all_ms: downloader.map(Math.round),
    },
    downloader_vs_plain_pct: Math.round((best(plain) / best(downloader)) * 100),
  };
}

async function main(): Promise<void> {
  const single = { video_ratio: 0, live_photo_ratio: 0, raw_ratio: 0 };
  const { sim, control, dsid } = await startPhotosSimulator({
    "files@bench.local": { count: 200, seed: 3, ...single, original_size: { min: 2_000_000, max: 2_000_000 } },
    "tenk@bench.local": { count: 10_000, seed: 5, ...single, original_size: { min: 20_000, max: 60_000 } },
    "hundredk@bench.local": { count: 100_000, seed: 6, ...single, original_size: { min: 1_000, max: 2_000 } },
  });
  try {
    await buildDist();
    const backfill = async (appleId: string) => {
      control.library(dsid(appleId)); // generated before timing
      return {
        lean: await runPhotosChild("backfill", sim.url, appleId, "lean"),
        node_defaults: await runPhotosChild("backfill", sim.url, appleId, "defaults"),
      };
    };
    const only = process.env["BENCH_ONLY"];
    if (only !== undefined) {
      control.library(dsid(only));
      const node = process.env["BENCH_NODE"] === "defaults" ? "defaults" : "lean";
      process.stdout.write(`${JSON.stringify(await runPhotosChild("backfill", sim.url, only, node))}\n`);
      return;
    }
    const report = {
      bench: "photos-backfill",
      node: process.version,
      throughput: await throughput(sim.url, "files@bench.local"),
      child_node: "lean: the installed command's flags (src/cli/node-flags.ts) and MALLOC_ARENA_MAX=2",
      backfill_10000: await backfill("tenk@bench.local"),
      backfill_100000: await backfill("hundredk@bench.local"),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sim.close();
  }
}

await main();
