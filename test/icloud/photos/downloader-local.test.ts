import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DownloadIndex } from "../../../src/icloud/photos/download-index.ts";
import {
  Downloader,
  type DownloaderOptions,
  type DownloadResult,
  downloadFailure,
  folderMode,
  isFolderFailure,
  nameFor,
  withSizeSuffix,
} from "../../../src/icloud/photos/downloader.ts";
import { ExpiredUrlError, type Fetcher } from "../../../src/icloud/photos/file-fetch.ts";
import type { FileRole, PhotoItem } from "../../../src/icloud/photos/types.ts";
import { until } from "../../support/harness.ts";
import { bindingRecorder } from "../../support/logger.ts";

/** Deterministic content of a file. */
function bytesOf(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(name).digest();
  for (let i = 0; i < size; i += 32) {
    block.copy(out, i);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

interface FileServer {
  url: string;
  files: Map<string, Buffer>;
  log: { path: string; range?: string }[];
  /** Paths whose next response is cut after this many bytes. */
  cutAfter: Map<string, number>;
  /** Paths answered 403 (expired signature). */
  expired: Set<string>;
  /** Paths whose next response stalls after this many bytes (never ends). */
  stallAfter: Map<string, number>;
  /** Extra bytes appended to the body (server lying about the size). */
  padding: Map<string, number>;
  close(): Promise<void>;
}

async function startFileServer(): Promise<FileServer> {
  const state = {
    files: new Map<string, Buffer>(),
    log: [] as { path: string; range?: string }[],
    cutAfter: new Map<string, number>(),
    stallAfter: new Map<string, number>(),
    expired: new Set<string>(),
    padding: new Map<string, number>(),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const key = url.pathname;
    state.log.push({ path: key, ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (state.expired.has(key)) return void res.writeHead(403).end("expired");
    const file = state.files.get(key);
    if (!file) return void res.writeHead(404).end();
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = match ? Number(match[1]) : 0;
    if (start >= file.length) {
      return void res.writeHead(416, { "content-range": `bytes */${file.length}` }).end();
    }
    const body = Buffer.concat([file.subarray(start), Buffer.alloc(state.padding.get(key) ?? 0)]);
    res.writeHead(match ? 206 : 200, {
      "content-type": "application/octet-stream",
      ...(match ? { "content-range": `bytes ${start}-${file.length - 1}/${file.length}` } : {}),
    });
    const stall = state.stallAfter.get(key);
    if (stall !== undefined) {
      state.stallAfter.delete(key);
      res.write(body.subarray(0, stall));
      return;
    }
    const cut = state.cutAfter.get(key);
    if (cut !== undefined) {
      state.cutAfter.delete(key);
      res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const fetcher: Fetcher = {
  async download(url, options) {
    const res = await request(url, {
      headers: options?.headers ?? {},
      ...(options?.signal ? { signal: options.signal } : {}),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers[k] = v;
    return { status: res.statusCode, headers, body: res.body };
  },
};

let server: FileServer;
let dir: string;
let library: string;

beforeEach(async () => {
  server = await startFileServer();
  dir = await mkdtemp(path.join(tmpdir(), "dl-test-"));
  library = path.join(dir, "library");
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** An item whose files the server holds under `/<id>/<role>`. */
function item(id: string, filename: string, sizes: Partial<Record<FileRole, number>> = { original: 5000 }): PhotoItem {
  const files = Object.entries(sizes).map(([role, size]) => {
    const key = `/${id}/${role}`;
    server.files.set(key, bytesOf(key, size));
    const extension = role === "live_video" ? "mov" : role === "thumbnail" ? "jpg" : "heic";
    return {
      id: `icpl://${id}-${role}`,
      data_type: role === "live_video" ? ("video" as const) : ("image" as const),
      extension,
      size,
      role: role as FileRole,
    };
  });
  return {
    asset: {
      id,
      data_type: "icpl.asset",
      filename,
      files,
      date_created: "2021-03-04T23:30:00Z",
      date_uploaded: "2021-03-05T00:00:00Z",
      local_date_created: "2021-03-05T01:30:00+02:00",
      media_type: sizes.live_video ? "live_photo" : "photo",
      favorite: false,
      hidden: false,
      master_id: `M${id}`,
      zone: "PrimarySync",
    },
    zone: { database: "private", zoneID: { zoneName: "PrimarySync" } },
    downloads: new Map(files.map((f) => [f.id, `${server.url}/${id}/${f.role}?e=1&k=secret`])),
    deleted: false,
  };
}

async function downloader(options: Partial<DownloaderOptions> = {}) {
  const index = await DownloadIndex.open(path.join(dir, "state", "downloads.jsonl"));
  return { index, dl: new Downloader({ libraryDir: library, index, fetcher, ...options }) };
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

describe("Downloader against a local file server", () => {
  it("writes originals by local date, and a restart neither downloads nor reports them again", async () => {
    const items = [item("a1", "IMG_0001.HEIC"), item("a2", "IMG_0002.HEIC", { original: 70_000 })];
    const first = await downloader();
    const results: boolean[] = [];
    const summary = await first.dl.run(items, { onResult: (r) => results.push(r.isNew) });
    await first.index.close();
    expect(summary).toMatchObject({ downloaded: 2, failed: 0, bytes: 75_000 });
    expect(results).toEqual([true, true]);
    expect(await listFiles(library)).toEqual(["2021/03/05/IMG_0001.HEIC", "2021/03/05/IMG_0002.HEIC"]);
    expect(await readFile(path.join(library, "2021/03/05/IMG_0002.HEIC"))).toEqual(bytesOf("/a2/original", 70_000));

    const requests = server.log.length;
    const second = await downloader();
    const again = await second.dl.run(items, { onResult: (r) => results.push(r.isNew) });
    await second.index.close();
    expect(again).toMatchObject({ downloaded: 0, skipped: 2 });
    expect(results.slice(2)).toEqual([false, false]);
    expect(server.log.length).toBe(requests);
  });

  it("resumes with Range after the connection is cut mid-file", async () => {
    const it1 = item("cut", "IMG_CUT.HEIC", { original: 300_000 });
    server.cutAfter.set("/cut/original", 100_000);
    const { dl, index } = await downloader({ folderStructure: "none" });
    const result = await dl.download(it1);
    await index.close();
    expect(result.status).toBe("downloaded");
    expect(server.log.map((l) => l.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(await readFile(path.join(library, "IMG_CUT.HEIC"))).toEqual(bytesOf("/cut/original", 300_000));
    expect(await listFiles(library)).toEqual(["IMG_CUT.HEIC"]);
  });

  it("after an abort keeps only a .part, and the next run completes it without duplicates", async () => {
    const big = item("big", "IMG_BIG.HEIC", { original: 4_000_000 });
    server.stallAfter.set("/big/original", 1_000_000);
    const first = await downloader({ folderStructure: "none" });
    const controller = new AbortController();
    const running = first.dl.run([big], { signal: controller.signal });
    // "Kill" the download once part of the file is on disk (some bytes written, not just the file created).
    const partSize = async () => {
      const [part] = await listFiles(library);
      return part === undefined ? 0 : (await stat(path.join(library, part))).size;
    };
    while ((await partSize()) === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(running).rejects.toThrow();
    await first.index.close();
    const leftovers = await listFiles(library);
    expect(leftovers).toHaveLength(1);
    expect(leftovers[0]).toMatch(/^\.IMG_BIG\.HEIC\.[0-9a-f]{8}\.part$/);

    const second = await downloader({ folderStructure: "none" });
    expect((await second.dl.run([big])).downloaded).toBe(1);
    await second.index.close();
    expect(server.log.at(-1)?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(await listFiles(library)).toEqual(["IMG_BIG.HEIC"]);
    expect(await readFile(path.join(library, "IMG_BIG.HEIC"))).toEqual(bytesOf("/big/original", 4_000_000));
  });

  it("never overwrites a different file with the same name", async () => {
    const { dl, index } = await downloader({ folderStructure: "none", concurrency: 2 });
    await dl.run([item("x1", "IMG_1.HEIC", { original: 1000 }), item("x2", "IMG_1.HEIC", { original: 2000 })]);
    await index.close();
    const files = await listFiles(library);
    expect(files).toHaveLength(2);
    expect(files).toContain("IMG_1.HEIC");
    // icloudpd's name-size-dedup-with-suffix: the second one carries its size.
    const second = files.find((f) => f !== "IMG_1.HEIC") ?? "";
    expect(second).toMatch(/^IMG_1-(1000|2000)\.HEIC$/);
    expect((await stat(path.join(library, second))).size).toBe(Number(/-(\d+)\./.exec(second)?.[1]));
  });

  it("a different file with the same name and size does not block the download", async () => {
    const photo = item("same", "IMG_SAME.HEIC", { original: 3000 });
    const other = Buffer.alloc(3000, 7);
    await mkdir(library, { recursive: true });
    await writeFile(path.join(library, "IMG_SAME.HEIC"), other);
    const { dl, index } = await downloader({ folderStructure: "none" });
    const summary = await dl.run([photo]);
    await index.close();
    expect(summary).toMatchObject({ downloaded: 1, failed: 0 });
    const files = await listFiles(library);
    expect(files).toHaveLength(2);
    const mine = files.find((f) => f !== "IMG_SAME.HEIC") ?? "";
    expect(mine).toBe("IMG_SAME-3000.HEIC");
    expect(await readFile(path.join(library, mine))).toEqual(bytesOf("/same/original", 3000));
    expect(await readFile(path.join(library, "IMG_SAME.HEIC"))).toEqual(other);
    expect(server.log.filter((l) => l.path === "/same/original")).toHaveLength(1);
  });

  it("a crash between the index line and the rename finishes from the .part without fetching again", async () => {
    const photo = item("cr", "IMG_CR.HEIC", { original: 2500 });
    const fileId = photo.asset.files[0]?.id ?? "";
    await mkdir(library, { recursive: true });
    const first = await downloader({ folderStructure: "none" });
    await first.index.recordFile("cr", fileId, { path: "IMG_CR.HEIC", size: 2500 });
    await first.index.close();
    const suffix = createHash("sha256").update("cr").digest("hex").slice(0, 8);
    await writeFile(path.join(library, `.IMG_CR.HEIC.${suffix}.part`), bytesOf("/cr/original", 2500));
    const second = await downloader({ folderStructure: "none" });
    const summary = await second.dl.run([photo]);
    await second.index.close();
    expect(summary).toMatchObject({ downloaded: 1, failed: 0 });
    expect(await listFiles(library)).toEqual(["IMG_CR.HEIC"]);
    expect(await readFile(path.join(library, "IMG_CR.HEIC"))).toEqual(bytesOf("/cr/original", 2500));
    expect(server.log.filter((l) => l.path === "/cr/original")).toEqual([]);
  });

  it("keeps hostile names inside the library folder", async () => {
    const hostile = [
      "../../escape.heic",
      "/etc/passwd",
      "..",
      "a/../../../b.heic",
      "CON",
      "x\u0000y.heic",
      "\u202eevil",
    ];
    const { dl, index } = await downloader({ folderStructure: "none" });
    const summary = await dl.run(hostile.map((name, i) => item(`h${i}`, name, { original: 10 })));
    await index.close();
    expect(summary.failed).toBe(0);
    expect(summary.downloaded).toBe(hostile.length);
    expect(await listFiles(dir)).toEqual(
      expect.arrayContaining((await listFiles(library)).map((f) => path.join("library", f))),
    );
    expect((await listFiles(dir)).filter((f) => !f.startsWith("library/") && !f.startsWith("state/"))).toEqual([]);
  });

  it("asks for a fresh URL once when the signed one expired", async () => {
    const old = item("exp", "IMG_EXP.HEIC", { original: 1234 });
    server.expired.add("/exp/original");
    let refreshes = 0;
    const refresh = async (stale: PhotoItem) => {
      refreshes++;
      server.files.set("/exp2/original", bytesOf("/exp/original", 1234));
      const fileId = stale.asset.files[0]!.id;
      return { ...stale, downloads: new Map([[fileId, `${server.url}/exp2/original?e=2`]]) };
    };
    const { dl, index } = await downloader({ folderStructure: "none", refresh });
    const result = await dl.download(old);
    await index.close();
    expect(result.status).toBe("downloaded");
    expect(refreshes).toBe(1);
    expect(await readFile(path.join(library, "IMG_EXP.HEIC"))).toEqual(bytesOf("/exp/original", 1234));
  });

  it("never logs download URLs or their keys", async () => {
    const lines: string[] = [];
    const capture = {
      debug: (msg: string, ctx?: Record<string, unknown>) => lines.push(msg + JSON.stringify(ctx ?? {})),
      info: (msg: string, ctx?: Record<string, unknown>) => lines.push(msg + JSON.stringify(ctx ?? {})),
      warn: (msg: string, ctx?: Record<string, unknown>) => lines.push(msg + JSON.stringify(ctx ?? {})),
      error: (msg: string, ctx?: Record<string, unknown>) => lines.push(msg + JSON.stringify(ctx ?? {})),
      child: () => capture,
    };
    server.expired.add("/gone/original");
    server.cutAfter.set("/ok/original", 10);
    const { dl, index } = await downloader({ folderStructure: "none", logger: capture });
    const results = [await dl.download(item("gone", "A.HEIC")), await dl.download(item("ok", "B.HEIC"))];
    await index.close();
    expect(results.map((r) => r.status)).toEqual(["failed", "downloaded"]);
    expect(lines.length).toBeGreaterThan(0);
    const text = lines.join("\n") + JSON.stringify(results);
    expect(text).not.toContain("secret");
    expect(text).not.toContain(server.url);
  });

  it("refuses a file whose size does not match the record, and fetches live videos and thumbnails on request", async () => {
    const wrong = item("pad", "IMG_PAD.HEIC", { original: 100 });
    server.padding.set("/pad/original", 7);
    const live = item("lv", "IMG_5.HEIC", { original: 100, live_video: 300, thumbnail: 50 });
    const { dl, index } = await downloader({ folderStructure: "{yyyy}", liveVideos: true, thumbnails: true });
    const bad = await dl.download(wrong);
    const good = await dl.download(live);
    await index.close();
    expect(bad.status).toBe("failed");
    expect(bad.error?.code).toBe("DOWNLOAD_FAILED");
    expect(good.files).toEqual(["2021/IMG_5.HEIC", "2021/IMG_5_HEVC.MOV", "2021/IMG_5_thumb.jpg"]);
    expect(await listFiles(library)).toEqual(["2021/IMG_5.HEIC", "2021/IMG_5_HEVC.MOV", "2021/IMG_5_thumb.jpg"]);
  });

  it("a file changed in iCloud between attempts is dropped (part removed) with a clear error, and fetched whole later", async () => {
    const photo = item("chg", "IMG_CHG.HEIC", { original: 200_000 });
    server.cutAfter.set("/chg/original", 50_000);
    // After the cut, the server holds another version of the file (edited in iCloud).
    const { dl, index } = await downloader({ folderStructure: "none", attempts: 2 });
    const original = server.files.get("/chg/original");
    const first = dl.download(photo);
    await new Promise((resolve) => setTimeout(resolve, 5));
    server.files.set("/chg/original", bytesOf("/chg/edited", 210_000));
    const result = await first;
    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(
      /the file changed in iCloud during the download \(210000 bytes, the record says 200000\)/,
    );
    expect((await listFiles(library)).filter((f) => f.endsWith(".part"))).toEqual([]);
    // A later run with the record's file as served: whole, and the index never took the half for done.
    server.files.set("/chg/original", original ?? Buffer.alloc(0));
    expect((await dl.download(photo)).status).toBe("downloaded");
    await index.close();
    expect(await readFile(path.join(library, "IMG_CHG.HEIC"))).toEqual(bytesOf("/chg/original", 200_000));
  });

  it("a full disk (ENOSPC) fails with a clear error and stops the run; nothing half-written is taken for done", async () => {
    const items = [item("n1", "IMG_N1.HEIC"), item("n2", "IMG_N2.HEIC"), item("n3", "IMG_N3.HEIC")];
    const full: Fetcher = {
      async download(url, options) {
        const answer = await fetcher.download(url, options);
        const body = new PassThrough();
        answer.body.once("data", (chunk: Buffer) => {
          body.write(chunk.subarray(0, 100));
          body.destroy(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
        });
        return { ...answer, body };
      },
    };
    const { dl, index } = await downloader({ folderStructure: "none", concurrency: 1, fetcher: full });
    const summary = await dl.run(items);
    await index.close();
    expect(summary.failed).toBe(1);
    expect(summary.downloaded).toBe(0);
    expect(summary.stopped?.message).toBe(
      "the disk holding the library folder is full (ENOSPC); the download is retried later",
    );
    expect(isFolderFailure(summary.stopped)).toBe(true);
    expect((await listFiles(library)).filter((f) => !f.endsWith(".part"))).toEqual([]);
    expect(downloadFailure(Object.assign(new Error("x"), { code: "EROFS" })).message).toBe(
      "the library folder is on a read-only file system (EROFS); the download is retried later",
    );
  });
});

const shortId = (assetId: string) => createHash("sha256").update(assetId).digest("hex").slice(0, 8);

describe("Downloader: names, choices and failures", () => {
  it("names extra files after the original: _HEVC only next to a HEIC, a label for other roles", () => {
    const photo = item("n1", "IMG_7.JPG", { original: 10, live_video: 20, thumbnail: 5 });
    const role = (r: FileRole) => ({ id: "x", data_type: "image" as const, extension: "jpg", size: 1, role: r });
    expect(nameFor(photo, { ...role("live_video"), extension: "mov" }, "fb")).toBe("IMG_7.MOV");
    expect(nameFor(item("n2", "IMG_8.heic"), { ...role("live_video"), extension: "mov" }, "fb")).toBe("IMG_8_HEVC.MOV");
    expect(nameFor(photo, role("thumbnail"), "fb")).toBe("IMG_7_thumb.jpg");
    expect(nameFor(photo, role("medium"), "fb")).toBe("IMG_7_medium.jpg");
    expect(nameFor(item("n3", "noext"), { ...role("original"), extension: "heic" }, "fb")).toBe("noext.heic");
    expect(nameFor(item("n4", "noext"), role("thumbnail"), "fb")).toBe("noext_thumb.jpg");
    expect(nameFor(item("n5", "heic"), { ...role("live_video"), extension: "mov" }, "fb")).toBe("heic.MOV");
  });

  it("fetches live videos and thumbnails only when asked, each on its own", async () => {
    const photo = (id: string) => item(id, `IMG_${id}.HEIC`, { original: 10, live_video: 20, thumbnail: 5 });
    const live = await downloader({ folderStructure: "none", liveVideos: true });
    expect((await live.dl.download(photo("l1"))).files).toEqual(["IMG_l1.HEIC", "IMG_l1_HEVC.MOV"]);
    await live.index.close();
    const thumbs = await downloader({ folderStructure: "none", thumbnails: true });
    expect((await thumbs.dl.download(photo("t1"))).files).toEqual(["IMG_t1.HEIC", "IMG_t1_thumb.jpg"]);
    expect(live.dl.wantedFiles(photo("w1")).map((f) => f.role)).toEqual(["original", "live_video"]);
    await thumbs.index.close();
  });

  it("an unusable name falls back to asset-<id>", async () => {
    const { dl, index } = await downloader({ folderStructure: "none" });
    const result = await dl.download(item("fb1", "..."));
    await index.close();
    expect(result.files).toEqual([`asset-${shortId("fb1")}.heic`]);
  });

  it("reports each outcome exactly: downloaded (new), skipped, failed with a coded error, and logs it", async () => {
    const { log, lines, bindings } = bindingRecorder();
    const { dl, index } = await downloader({ folderStructure: "none", logger: log });
    expect(bindings).toEqual([{ module: "photos-downloader" }]);
    const ok = item("ok1", "IMG_OK.HEIC", { original: 100 });
    expect(await dl.download(ok)).toEqual({
      assetId: "ok1",
      status: "downloaded",
      isNew: true,
      files: ["IMG_OK.HEIC"],
      bytes: 100,
    });
    expect(index.file("ok1", ok.asset.files[0]!.id)).toEqual({ path: "IMG_OK.HEIC", size: 100 });
    expect(await dl.download(ok)).toEqual({ assetId: "ok1", status: "skipped", isNew: false, files: [], bytes: 0 });

    const noOriginal = item("t2", "IMG_T.HEIC", { thumbnail: 10 });
    const withThumbs = new Downloader({ libraryDir: library, index, fetcher, thumbnails: true, logger: log });
    const missing = await withThumbs.download(noOriginal);
    expect(missing).toMatchObject({ status: "failed", isNew: false, error: { code: "DOWNLOAD_FAILED" } });
    expect(missing.error?.message).toBe("the record lists no original file");

    const noUrl = { ...item("u1", "IMG_U.HEIC"), downloads: new Map<string, string>() };
    expect((await dl.download(noUrl)).error).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: "no download URL in the record",
    });
    await index.close();
    expect(lines).toEqual([
      ["debug", "downloaded", { asset: "ok1", files: ["IMG_OK.HEIC"] }],
      ["warn", "download failed", { asset: "t2", error: "the record lists no original file" }],
      ["warn", "download failed", { asset: "u1", error: "no download URL in the record" }],
    ]);
  });

  it("an expired URL: one fresh one, asked once; still expired or gone from the library fails", async () => {
    const { log, lines } = bindingRecorder();
    server.expired.add("/ex1/original");
    let refreshes = 0;
    const stillExpired = async (stale: PhotoItem) => {
      refreshes++;
      return stale;
    };
    const first = await downloader({ folderStructure: "none", refresh: stillExpired, logger: log, attempts: 3 });
    const expired = await first.dl.download(item("ex1", "IMG_EX.HEIC"));
    expect(refreshes).toBe(1);
    expect(expired.error).toMatchObject({ code: "DOWNLOAD_FAILED", message: "download URL refused (HTTP 403)" });
    // Expired URLs are not retried with the same URL: one request before and one after the refresh.
    expect(server.log.filter((l) => l.path === "/ex1/original")).toHaveLength(2);
    expect(lines).toContainEqual(["debug", "download URL expired, asking CloudKit for a fresh one", { asset: "ex1" }]);
    await first.index.close();

    const gone = await downloader({ folderStructure: "none", refresh: async () => undefined });
    server.expired.add("/ex2/original");
    expect((await gone.dl.download(item("ex2", "IMG_EX2.HEIC"))).error).toMatchObject({
      code: "NOT_FOUND",
      message: "the asset is no longer in the library",
    });
    await gone.index.close();

    const noRefresh = await downloader({ folderStructure: "none" });
    server.expired.add("/ex3/original");
    expect((await noRefresh.dl.download(item("ex3", "IMG_EX3.HEIC"))).error?.message).toBe(
      "download URL refused (HTTP 403)",
    );
    await noRefresh.index.close();
  });

  it("a library folder it cannot write to: failed with DOWNLOAD_FAILED and the file system's error as cause", async () => {
    await writeFile(library, "a file where the library folder should be");
    const { dl, index } = await downloader();
    const result = await dl.download(item("nf1", "IMG_NF.HEIC"));
    await index.close();
    expect(result).toMatchObject({ status: "failed", error: { code: "DOWNLOAD_FAILED" } });
    expect((result.error?.cause as NodeJS.ErrnoException | undefined)?.code).toMatch(/^(ENOTDIR|EEXIST)$/);
  });

  it("an abort rejects (it is no failure to remember)", async () => {
    const { dl, index } = await downloader({ folderStructure: "none" });
    const controller = new AbortController();
    controller.abort();
    await expect(dl.download(item("ab1", "IMG_AB.HEIC"), controller.signal)).rejects.toThrow();
    await index.close();
  });

  it("retries an interrupted file within the run, logging each resume", async () => {
    const { log, lines } = bindingRecorder();
    server.cutAfter.set("/rs1/original", 1000);
    const { dl, index } = await downloader({ folderStructure: "none", logger: log });
    expect((await dl.download(item("rs1", "IMG_RS.HEIC", { original: 5000 }))).status).toBe("downloaded");
    await index.close();
    expect(lines).toContainEqual(["debug", "download interrupted, resuming", { asset: "rs1", attempt: 1 }]);
  });

  it("keeps files already fetched for an unfinished asset, in date folders too", async () => {
    const photo = item("kp1", "IMG_KP.HEIC", { original: 300, live_video: 400 });
    server.expired.add("/kp1/live_video");
    const first = await downloader({ liveVideos: true });
    expect((await first.dl.download(photo)).status).toBe("failed");
    await first.index.close();
    server.expired.delete("/kp1/live_video");
    const before = server.log.filter((l) => l.path === "/kp1/original").length;
    const second = await downloader({ liveVideos: true });
    const result = await second.dl.download(photo);
    await second.index.close();
    expect(result).toMatchObject({ status: "downloaded", bytes: 400 });
    expect(result.files).toEqual(["2021/03/05/IMG_KP.HEIC", "2021/03/05/IMG_KP_HEVC.MOV"]);
    expect(server.log.filter((l) => l.path === "/kp1/original")).toHaveLength(before);
  });

  it("an indexed file that is missing or of another size is fetched again; an index path outside the library is ignored", async () => {
    const photo = item("ix1", "IMG_IX.HEIC", { original: 300 });
    const fileId = photo.asset.files[0]!.id;
    const first = await downloader({ folderStructure: "none" });
    await first.index.recordFile("ix1", fileId, { path: "../outside.HEIC", size: 300 });
    await first.index.close();
    const second = await downloader({ folderStructure: "none" });
    expect((await second.dl.download(photo)).files).toEqual(["IMG_IX.HEIC"]);
    await second.index.close();

    const other = item("ix2", "IMG_IX2.HEIC", { original: 300 });
    const otherId = other.asset.files[0]!.id;
    const third = await downloader({ folderStructure: "none" });
    await third.index.recordFile("ix2", otherId, { path: "IMG_IX2.HEIC", size: 300 });
    await writeFile(path.join(library, "IMG_IX2.HEIC"), Buffer.alloc(10));
    const result = await third.dl.download(other);
    await third.index.close();
    expect(result).toMatchObject({ status: "downloaded", bytes: 300 });
    // The 10 bytes under the indexed name are no longer ours: kept, and ours goes under its sized name.
    expect(result.files).toEqual(["IMG_IX2-300.HEIC"]);
    expect(await readFile(path.join(library, "IMG_IX2.HEIC"))).toEqual(Buffer.alloc(10));
    expect(await readFile(path.join(library, "IMG_IX2-300.HEIC"))).toEqual(bytesOf("/ix2/original", 300));
    expect(await listFiles(dir)).not.toContain("outside.HEIC");
  });

  it("after a crash: a complete .part is renamed (logged); an incomplete one is resumed, never renamed", async () => {
    const { log, lines } = bindingRecorder();
    const whole = item("pc1", "IMG_PC1.HEIC", { original: 2000 });
    const half = item("pc2", "IMG_PC2.HEIC", { original: 2000 });
    await mkdir(library, { recursive: true });
    const first = await downloader({ folderStructure: "none" });
    for (const [photo, name] of [
      [whole, "IMG_PC1.HEIC"],
      [half, "IMG_PC2.HEIC"],
    ] as const) {
      await first.index.recordFile(photo.asset.id, photo.asset.files[0]!.id, { path: name, size: 2000 });
    }
    await first.index.close();
    await writeFile(path.join(library, `.IMG_PC1.HEIC.${shortId("pc1")}.part`), bytesOf("/pc1/original", 2000));
    await writeFile(
      path.join(library, `.IMG_PC2.HEIC.${shortId("pc2")}.part`),
      bytesOf("/pc2/original", 2000).subarray(0, 700),
    );
    const second = await downloader({ folderStructure: "none", logger: log });
    await second.dl.run([whole, half]);
    await second.index.close();
    expect(lines).toContainEqual([
      "debug",
      "finished a download interrupted before its rename",
      { asset: "pc1", file: "IMG_PC1.HEIC" },
    ]);
    expect(server.log.filter((l) => l.path === "/pc2/original")).toEqual([
      { path: "/pc2/original", range: "bytes=700-" },
    ]);
    expect(await readFile(path.join(library, "IMG_PC2.HEIC"))).toEqual(bytesOf("/pc2/original", 2000));
    expect(await listFiles(library)).toEqual(["IMG_PC1.HEIC", "IMG_PC2.HEIC"]);
  });

  it("drops its stale .parts under names it no longer gets; resumes the one under the name it gets", async () => {
    const photo = item("st1", "IMG_ST.HEIC", { original: 3000 });
    const id = shortId("st1");
    const sized = "IMG_ST-3000.HEIC";
    const suffixed = `IMG_ST-3000-${id}.HEIC`;
    await mkdir(library, { recursive: true });
    await writeFile(path.join(library, "IMG_ST.HEIC"), Buffer.alloc(100, 1)); // another photo took the name
    await writeFile(path.join(library, `.IMG_ST.HEIC.${id}.part`), Buffer.alloc(50, 2));
    // Left while the sized name was taken (that file is gone since): the sized name is free again.
    await writeFile(path.join(library, `.${suffixed}.${id}.part`), Buffer.alloc(60, 3));
    await writeFile(path.join(library, `.${sized}.${id}.part`), bytesOf("/st1/original", 3000).subarray(0, 1000));
    const { dl, index } = await downloader({ folderStructure: "none" });
    expect(await dl.download(photo)).toEqual({
      assetId: "st1",
      status: "downloaded",
      isNew: true,
      files: [sized],
      bytes: 3000,
    });
    await index.close();
    expect(await listFiles(library)).toEqual([sized, "IMG_ST.HEIC"]);
    expect(server.log.filter((l) => l.path === "/st1/original")).toEqual([
      { path: "/st1/original", range: "bytes=1000-" },
    ]);
    expect(await readFile(path.join(library, sized))).toEqual(bytesOf("/st1/original", 3000));
    expect(await readFile(path.join(library, "IMG_ST.HEIC"))).toEqual(Buffer.alloc(100, 1));
  });

  it("when its name and its sized name are taken by other files, it uses its own suffixed name", async () => {
    const photo = item("bt1", "IMG_BT.HEIC", { original: 3000 });
    const suffixed = `IMG_BT-3000-${shortId("bt1")}.HEIC`;
    await mkdir(library, { recursive: true });
    await writeFile(path.join(library, "IMG_BT.HEIC"), Buffer.alloc(100, 1));
    // Of the same size, but not in the index: another photo, never taken for ours nor overwritten.
    await writeFile(path.join(library, "IMG_BT-3000.HEIC"), Buffer.alloc(3000, 4));
    await writeFile(path.join(library, suffixed), Buffer.alloc(100, 2)); // left by an index that was lost
    const { dl, index } = await downloader({ folderStructure: "none" });
    expect((await dl.download(photo)).files).toEqual([suffixed]);
    await index.close();
    expect(await readFile(path.join(library, suffixed))).toEqual(bytesOf("/bt1/original", 3000));
    expect(await readFile(path.join(library, "IMG_BT.HEIC"))).toEqual(Buffer.alloc(100, 1));
    expect(await readFile(path.join(library, "IMG_BT-3000.HEIC"))).toEqual(Buffer.alloc(3000, 4));
    expect(await listFiles(library)).toEqual(["IMG_BT-3000.HEIC", suffixed, "IMG_BT.HEIC"].sort());
  });

  it("the same asset three times at once is fetched once: the others wait for it and report it skipped", async () => {
    const photo = item("tw1", "IMG_TW.HEIC", { original: 3000 });
    const { dl, index } = await downloader({ folderStructure: "none", concurrency: 3 });
    const results: DownloadResult[] = [];
    const summary = await dl.run([photo, photo, photo], { onResult: (r) => results.push(r) });
    await index.close();
    expect(summary).toEqual({ downloaded: 1, skipped: 2, failed: 0, bytes: 3000 });
    const files = ["IMG_TW.HEIC"];
    expect(results).toEqual([
      { assetId: "tw1", status: "downloaded", isNew: true, files, bytes: 3000 },
      { assetId: "tw1", status: "skipped", isNew: false, files, bytes: 0 },
      { assetId: "tw1", status: "skipped", isNew: false, files, bytes: 0 },
    ]);
    expect(server.log.filter((l) => l.path === "/tw1/original")).toEqual([{ path: "/tw1/original" }]);
    expect(await listFiles(library)).toEqual(files);
  });

  it("the same asset asked again while it fails or is aborted shares that outcome, fetched once", async () => {
    const photo = item("tf1", "IMG_TF.HEIC", { original: 3000 });
    server.expired.add("/tf1/original"); // no refresh given: the file fails
    const { dl, index } = await downloader({ folderStructure: "none" });
    const [first, second] = await Promise.all([dl.download(photo), dl.download(photo)]);
    expect(first).toMatchObject({ status: "failed", isNew: false, files: [], bytes: 0 });
    expect(first.error).toMatchObject({ code: "DOWNLOAD_FAILED", message: "download URL refused (HTTP 403)" });
    expect(second).toEqual({ ...first, status: "failed", isNew: false, bytes: 0 });
    expect(server.log.filter((l) => l.path === "/tf1/original")).toHaveLength(1);

    // Aborted while the first one runs: every waiting call rejects too, and nothing is asked twice.
    const stalled = item("tw2", "IMG_TW2.HEIC", { original: 200_000 });
    server.stallAfter.set("/tw2/original", 10);
    const controller = new AbortController();
    const calls = [0, 1, 2].map(() => dl.download(stalled, controller.signal));
    await until(() => server.log.some((l) => l.path === "/tw2/original"), "the first request");
    controller.abort();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(server.log.filter((l) => l.path === "/tw2/original")).toHaveLength(1);
    // Nothing is left in flight: the next call is a download of its own.
    expect(await dl.download(stalled)).toMatchObject({ status: "downloaded", isNew: true, files: ["IMG_TW2.HEIC"] });
    await index.close();
    expect(server.log.filter((l) => l.path === "/tw2/original")).toHaveLength(2);
    expect(await readFile(path.join(library, "IMG_TW2.HEIC"))).toEqual(bytesOf("/tw2/original", 200_000));
  });

  it("runs at least one download at a time, and several in parallel when asked", async () => {
    const zero = await downloader({ folderStructure: "none", concurrency: 0 });
    expect(await zero.dl.run([item("c0", "IMG_C0.HEIC", { original: 10 })])).toMatchObject({ downloaded: 1 });
    await zero.index.close();
    // A stalled file does not hold back the next one when two run at once.
    server.stallAfter.set("/c1/original", 10);
    const two = await downloader({ folderStructure: "none", concurrency: 2 });
    const controller = new AbortController();
    const done: string[] = [];
    const running = two.dl.run([item("c1", "IMG_C1.HEIC", { original: 100_000 }), item("c2", "IMG_C2.HEIC")], {
      signal: controller.signal,
      onResult: (r) => done.push(`${r.assetId} ${r.status}`),
    });
    while (done.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(running).rejects.toThrow();
    await two.index.close();
    expect(done).toEqual(["c2 downloaded"]);
  });
});

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe("Downloader: errors, names, modes and options in detail", () => {
  it("words each library-folder errno for a person, and leaves other errors as they are", () => {
    const errno = (code: string) => downloadFailure(Object.assign(new Error(`${code}: x`), { code }));
    expect(errno("EDQUOT").message).toBe(
      "the disk quota of the library folder is used up (EDQUOT); the download is retried later",
    );
    for (const code of ["EACCES", "EPERM"]) {
      const failure = errno(code);
      expect(failure.message).toBe(
        `no permission to write in the library folder (${code}); the download is retried later`,
      );
      expect(failure.info).toEqual({ folder_error: code });
      expect(isFolderFailure(failure)).toBe(true);
    }
    // Any other error keeps its own message and is no folder failure, also with a code named like an
    // Object.prototype member.
    for (const error of [new Error("boom"), Object.assign(new Error("boom"), { code: "constructor" })]) {
      const failure = downloadFailure(error);
      expect([failure.code, failure.message, failure.info, failure.cause]).toEqual([
        "DOWNLOAD_FAILED",
        "boom",
        {},
        error,
      ]);
      expect(isFolderFailure(failure)).toBe(false);
    }
    const nothing = downloadFailure(undefined);
    expect([nothing.code, nothing.message]).toEqual(["DOWNLOAD_FAILED", "undefined"]);
    expect(isFolderFailure(undefined)).toBe(false);
    // An expired URL says so itself: no cause to unwrap.
    const expired = downloadFailure(new ExpiredUrlError("the download URL expired (403)"));
    expect([expired.code, expired.message, expired.cause, expired.info]).toEqual([
      "DOWNLOAD_FAILED",
      "the download URL expired (403)",
      undefined,
      {},
    ]);
  });

  it("puts the size before the extension; a leading dot is part of the name, not an extension", () => {
    expect(withSizeSuffix("IMG_1.HEIC", 1234)).toBe("IMG_1-1234.HEIC");
    expect(withSizeSuffix("README", 12)).toBe("README-12");
    expect(withSizeSuffix(".hidden", 12)).toBe(".hidden-12");
  });

  it("shortens a long stem to the byte limit, never splitting a multi-byte character", () => {
    // tail "-1234.HEIC" is 10 bytes: 170 bytes of stem fit, 85 two-byte characters exactly.
    const two = withSizeSuffix(`${"é".repeat(200)}.HEIC`, 1234);
    expect(two).toBe(`${"é".repeat(85)}-1234.HEIC`);
    expect(Buffer.byteLength(two)).toBe(180);
    const three = withSizeSuffix(`${"€".repeat(100)}.HEIC`, 1234);
    expect(three).toBe(`${"€".repeat(56)}-1234.HEIC`);
    expect(withSizeSuffix(`${"a".repeat(170)}.HEIC`, 1234)).toBe(`${"a".repeat(170)}-1234.HEIC`);
  });

  it("gives folders the search bit for whoever may read or write the files", () => {
    expect(folderMode(0o600)).toBe(0o700);
    expect(folderMode(0o640)).toBe(0o750);
    expect(folderMode(0o644)).toBe(0o755);
    expect(folderMode(0o200)).toBe(0o300);
    expect(folderMode(0o004)).toBe(0o005);
    expect(folderMode(0o601)).toBe(0o701);
    expect(folderMode(0o000)).toBe(0o000);
    expect(folderMode(0o4600)).toBe(0o700);
  });

  it("sets the mode on every folder it creates (umask aside) and leaves existing ones alone", async () => {
    await mkdir(library, { mode: 0o755 });
    await chmod(library, 0o755);
    await chmod(dir, 0o711);
    const { dl, index } = await downloader({ fileMode: 0o666 });
    expect((await dl.download(item("m1", "IMG_M1.HEIC"))).status).toBe("downloaded");
    for (const folder of ["2021", "2021/03", "2021/03/05"])
      expect(await modeOf(path.join(library, folder)), folder).toBe(0o777);
    expect(await modeOf(library)).toBe(0o755);
    expect(await modeOf(dir)).toBe(0o711);
    // A second downloader finds the folders there: they keep the mode they have.
    await chmod(path.join(library, "2021"), 0o755);
    await chmod(path.join(library, "2021/03/05"), 0o750);
    const again = new Downloader({ libraryDir: library, index, fetcher, fileMode: 0o666 });
    expect((await again.download(item("m2", "IMG_M2.HEIC"))).status).toBe("downloaded");
    expect(await modeOf(path.join(library, "2021"))).toBe(0o755);
    expect(await modeOf(path.join(library, "2021/03/05"))).toBe(0o750);
    expect(await modeOf(library)).toBe(0o755);
    expect(await modeOf(dir)).toBe(0o711);
    await index.close();
  });

  it("creates a missing library folder with the folder mode too", async () => {
    const { dl, index } = await downloader({ fileMode: 0o644, folderStructure: "none" });
    await chmod(dir, 0o711);
    expect((await dl.download(item("m3", "IMG_M3.HEIC"))).status).toBe("downloaded");
    await index.close();
    expect(await modeOf(library)).toBe(0o755);
    expect(await modeOf(dir)).toBe(0o711);
    expect(await modeOf(path.join(library, "IMG_M3.HEIC"))).toBe(0o644);
  });

  it("a stale .part it cannot remove (not a file) fails the download instead of being ignored", async () => {
    const asset = item("p1", "IMG_P1.HEIC");
    await mkdir(path.join(library, `.IMG_P1-5000.HEIC.${shortId("p1")}.part`), { recursive: true });
    const { dl, index } = await downloader({ folderStructure: "none" });
    const result = await dl.download(asset);
    await index.close();
    expect(result.status).toBe("failed");
    expect(result.error?.cause).toMatchObject({ code: "EISDIR" });
  });

  it("verify: only with it are missing files of a complete asset fetched again (not new); intact ones are skipped", async () => {
    const a = item("v1", "IMG_V1.HEIC");
    const b = item("v2", "IMG_V2.HEIC");
    const { dl, index } = await downloader({ folderStructure: "none", concurrency: 1 });
    expect(await dl.run([a, b])).toEqual({ downloaded: 2, skipped: 0, failed: 0, bytes: 10000 });
    await unlink(path.join(library, "IMG_V1.HEIC"));
    expect(await dl.run([a, b])).toEqual({ downloaded: 0, skipped: 2, failed: 0, bytes: 0 });
    expect(await dl.download(a)).toEqual({ assetId: "v1", status: "skipped", isNew: false, files: [], bytes: 0 });
    expect(await listFiles(library)).toEqual(["IMG_V2.HEIC"]);
    const results: DownloadResult[] = [];
    expect(await dl.run([a, b], { verify: true, onResult: (r) => results.push(r) })).toEqual({
      downloaded: 1,
      skipped: 1,
      failed: 0,
      bytes: 5000,
    });
    expect(results).toEqual([
      { assetId: "v1", status: "downloaded", isNew: false, files: ["IMG_V1.HEIC"], bytes: 5000 },
      { assetId: "v2", status: "skipped", isNew: false, files: ["IMG_V2.HEIC"], bytes: 0 },
    ]);
    await unlink(path.join(library, "IMG_V2.HEIC"));
    expect(await dl.download(b, undefined, { verify: true })).toEqual({
      assetId: "v2",
      status: "downloaded",
      isNew: false,
      files: ["IMG_V2.HEIC"],
      bytes: 5000,
    });
    await index.close();
  });

  it("releases an async source only when a folder failure stopped the run", async () => {
    const released: string[] = [];
    async function* source(name: string, items: PhotoItem[]) {
      try {
        yield* items;
      } finally {
        released.push(name);
      }
    }
    const { dl, index } = await downloader({ folderStructure: "none", concurrency: 1 });
    const done = await dl.run(source("complete", [item("s1", "IMG_S1.HEIC")]));
    expect(done.stopped).toBeUndefined();
    // The generator finished on its own; `return()` after that is a no-op, so count the calls instead.
    const calls: string[] = [];
    const iterable = (items: PhotoItem[]): AsyncIterable<PhotoItem> => ({
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: async () => (i < items.length ? { done: false, value: items[i++]! } : { done: true, value: undefined }),
          return: async () => {
            calls.push("return");
            return { done: true, value: undefined };
          },
        };
      },
    });
    await dl.run(iterable([item("s2", "IMG_S2.HEIC")]));
    expect(calls).toEqual([]);
    const denied: Fetcher = {
      async download() {
        throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
      },
    };
    const stopping = new Downloader({
      libraryDir: library,
      index,
      fetcher: denied,
      folderStructure: "none",
      attempts: 1,
      concurrency: 1,
    });
    const summary = await stopping.run(source("stopped", [item("s3", "IMG_S3.HEIC"), item("s4", "IMG_S4.HEIC")]));
    expect([summary.failed, summary.stopped?.info]).toEqual([1, { folder_error: "EACCES" }]);
    expect(released).toEqual(["complete", "stopped"]);
    const counted = await stopping.run(iterable([item("s5", "IMG_S5.HEIC"), item("s6", "IMG_S6.HEIC")]));
    expect(counted).toMatchObject({ failed: 1, downloaded: 0 });
    expect(calls).toEqual(["return"]);
    await index.close();
  });

  it("two assets whose short ids collide, racing for taken names: the second finds no free name and fails", async () => {
    // "c17439" and "c24164" share the short id c51deb06: the same suffixed name is the last choice of both.
    expect(shortId("c17439")).toBe(shortId("c24164"));
    const first = item("c17439", "IMG_X.HEIC");
    const second = item("c24164", "IMG_X.HEIC");
    await mkdir(library, { recursive: true });
    await writeFile(path.join(library, "IMG_X.HEIC"), bytesOf("other-1", 5000));
    await writeFile(path.join(library, "IMG_X-5000.HEIC"), bytesOf("other-2", 5000));
    let started!: () => void;
    const inside = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: Fetcher = {
      async download(url, options) {
        started();
        await gate;
        return fetcher.download(url, options);
      },
    };
    const { dl, index } = await downloader({ folderStructure: "none", fetcher: gated });
    const running = dl.download(first);
    await inside;
    const blocked = await dl.download(second);
    expect([blocked.status, blocked.error?.code, blocked.error?.message]).toEqual([
      "failed",
      "DOWNLOAD_FAILED",
      "no free file name for the asset",
    ]);
    release();
    expect(await running).toMatchObject({ status: "downloaded", files: [`IMG_X-5000-${shortId("c17439")}.HEIC`] });
    await index.close();
  });
});
