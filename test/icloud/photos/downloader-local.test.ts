import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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
  downloadFailure,
  isFolderFailure,
} from "../../../src/icloud/photos/downloader.ts";
import type { Fetcher } from "../../../src/icloud/photos/file-fetch.ts";
import type { FileRole, PhotoItem } from "../../../src/icloud/photos/types.ts";

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
