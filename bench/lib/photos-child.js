// @ts-check
/**
 * Child processes of the photos benchmarks, in plain JavaScript on the compiled `dist/` (no type
 * stripping, no simulator in the process): its RSS is the client's alone. Prints one JSON line.
 *
 * `node bench/lib/photos-child.js enumerate|serial|backfill` with BENCH_SIM_URL, BENCH_APPLE_ID and
 * BENCH_PASSWORD: signs in, then lists the account's library with PhotosService (`enumerate`,
 * BENCH_PREFETCH pages ahead, default 4), with the reference lister (`serial`: one page of 200
 * records at a time, each request sent after the previous answer was read, JSON parsed, records
 * counted, nothing validated), or mirrors it (`backfill`: `download.mode: all` into a temporary
 * folder, BENCH_CONCURRENCY downloads at a time, memory at each quarter). BENCH_DIAG=1 (enumerate)
 * prints RSS by mapping and V8's figures every 20 000 assets on stderr. Run `npm run build` first.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const dist = new URL("../../dist/", import.meta.url);
/** @type {typeof import("../../src/icloud/session.ts")} */
const { ICloudSession } = await import(new URL("icloud/session.js", dist).href);
/** @type {typeof import("../../src/icloud/session-store.ts")} */
const { SessionStore } = await import(new URL("icloud/session-store.js", dist).href);

const mode = process.argv[2];
const env = (/** @type {string} */ name) => process.env[name] ?? "";
const mb = (/** @type {number} */ bytes) => Math.round((bytes / 1e6) * 10) / 10;

const stateDir = await mkdtemp(path.join(tmpdir(), "bench-child-"));
try {
  const session = await ICloudSession.open({
    username: env("BENCH_APPLE_ID"),
    password: env("BENCH_PASSWORD"),
    endpoint: env("BENCH_SIM_URL"),
    store: new SessionStore(stateDir),
  });
  const signed = await session.signIn();
  if (signed.state !== "active") throw new Error(`sign-in failed: ${String(signed.error)}`);
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const cpu = process.cpuUsage();
  let assets = 0;
  let requests = 0;
  /** @type {Record<string, unknown>} */
  let extra = {};
  if (mode === "enumerate") {
    /** @type {typeof import("../../src/icloud/photos/photos-service.ts")} */
    const { PhotosService } = await import(new URL("icloud/photos/photos-service.js", dist).href);
    const photos = new PhotosService(session);
    for await (const _ of photos.enumerate({
      index: "asset_date",
      prefetch: Number(process.env["BENCH_PREFETCH"] ?? 4),
    })) {
      assets++;
      if (process.env["BENCH_DIAG"] && assets % 20000 === 0) {
        globalThis.gc?.();
        const m = process.memoryUsage();
        const { readFileSync } = await import("node:fs");
        const sm = {};
        let cur = "";
        for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
          const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
          if (head) {
            cur = (head[1] || "anon").split("/").pop() ?? "";
            const [a, b] = line
              .split(" ")[0]
              .split("-")
              .map((x) => Number.parseInt(x, 16));
            if (cur === "anon") cur = `anon${Math.round((b - a) / 1048576)}MB`;
          }
          const r = /^Rss:\s+(\d+) kB/.exec(line);
          if (r) sm[cur] = Math.round(((sm[cur] ?? 0) + Number(r[1]) / 1000) * 10) / 10;
        }
        process.stderr.write(`${JSON.stringify(sm)}\n`);
        process.stderr.write(
          `${assets} rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}\n`,
        );
      }
    }
    requests = photos.requestCount;
  } else if (mode === "serial") {
    const query = "/database/1/com.apple.photos.cloud/production/private/records/query";
    for (let rank = 0; ; ) {
      const body = {
        query: {
          recordType: "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
          filterBy: [
            { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: rank } },
            { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "ASCENDING" } },
          ],
        },
        resultsLimit: 200,
        zoneID: { zoneName: "PrimarySync" },
      };
      requests++;
      const answer = await session.request("ckdatabasews", query, { method: "POST", body, contentType: "text/plain" });
      const records = /** @type {{ records?: { recordType?: string }[] }} */ (answer.json).records ?? [];
      const found = records.filter((record) => record.recordType === "CPLAsset").length;
      if (found === 0) break;
      assets += found;
      rank += found;
    }
  } else if (mode === "backfill") {
    /** @type {typeof import("../../src/icloud/photos/photos-service.ts")} */
    const { PhotosService } = await import(new URL("icloud/photos/photos-service.js", dist).href);
    /** @type {typeof import("../../src/engine/services/photos/config.ts")} */
    const { PhotosConfigSchema } = await import(new URL("engine/services/photos/config.js", dist).href);
    /** @type {typeof import("../../src/engine/services/photos/library.ts")} */
    const { indexFileFor, libraryZones, openLibrary } = await import(
      new URL("engine/services/photos/library.js", dist).href
    );
    /** @type {typeof import("../../src/logger.ts")} */
    const { silentLogger } = await import(new URL("logger.js", dist).href);
    const service = new PhotosService(session);
    const config = PhotosConfigSchema.parse({
      download: { structure: "{yyyy}/{mm}", live_videos: false, concurrency: Number(env("BENCH_CONCURRENCY") || 3) },
    });
    const folder = path.join(stateDir, "library");
    const library = await openLibrary({
      transport: session,
      service,
      download: config.download,
      folder,
      indexFile: indexFileFor(stateDir, "bench", folder, folder),
      log: silentLogger,
    });
    /** @type {number[]} */
    const quarters = [];
    /** @type {Record<string, number>[]} */
    const detail = [];
    try {
      const summary = await library.mirror.walk(await libraryZones(service, "private"), {
        cursor: {},
        onProgress: (p) => {
          while (quarters.length < 4 && p.items_done >= ((quarters.length + 1) / 4) * p.items_total) {
            const m = process.memoryUsage();
            quarters.push(mb(m.rss));
            detail.push({
              heap: mb(m.heapUsed),
              heap_total: mb(m.heapTotal),
              external: mb(m.external),
              array_buffers: mb(m.arrayBuffers),
            });
          }
        },
      });
      assets = summary.downloaded + summary.skipped;
      extra = {
        failed: summary.failed,
        files: summary.files,
        total_mb: mb(summary.bytes),
        files_per_s: Math.round(summary.files / ((performance.now() - start) / 1000)),
        rss_mb_at_quarters: quarters,
        memory_mb_at_quarters: detail,
      };
    } finally {
      await library.close();
    }
    requests = service.requestCount;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({
      assets,
      ms: Math.round(performance.now() - start),
      client_cpu_ms: Math.round((used.user + used.system) / 1000),
      requests,
      peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
      rss_before_mb: mb(rssBefore),
      ...extra,
    })}\n`,
  );
  await session.close();
} finally {
  await rm(stateDir, { recursive: true, force: true });
}
