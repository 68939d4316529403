import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isEngineError } from "../../../src/errors.ts";
import { ExpiredUrlError, type Fetcher, fetchToPart } from "../../../src/icloud/photos/file-fetch.ts";
import { PhotosService } from "../../../src/icloud/photos/photos-service.ts";
import type { DownloadResponse } from "../../../src/icloud/service-transport.ts";
import type { FaultSpec } from "../../../src/simulator/fault-spec.ts";
import { type PhotosWorld, photosWorld } from "../../support/photos-world.ts";

let world: PhotosWorld;
let url: string;
let size: number;
/** The original as the simulator serves it in one clean request. */
let original: Buffer;
let dir: string;
let part: string;

beforeAll(async () => {
  world = await photosWorld({ count: 1, seed: 31, video_ratio: 0, original_size: { min: 20_000, max: 30_000 } });
  for await (const item of new PhotosService(world.session).enumerate()) {
    const file = item.asset.files.find((f) => f.role === "original");
    url = item.downloads.get(file?.id ?? "") ?? "";
    size = file?.size ?? 0;
  }
  const response = await world.session.download(url);
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
  original = Buffer.concat(chunks);
  expect(original.length).toBe(size);
});
afterAll(async () => {
  await world.sim.close();
});
beforeEach(async () => {
  world.sim.faults.clear();
  dir = await mkdtemp(path.join(tmpdir(), "fetch-part-"));
  part = path.join(dir, ".IMG.abc.part");
  return () => rm(dir, { recursive: true, force: true });
});

interface Seen {
  headers: Record<string, string>;
  signal: boolean;
  response?: DownloadResponse;
}

/**
 * The session as the fetcher, noting what it was asked; `proxy` changes the request or the answer
 * on the way, like a misbehaving proxy between us and Apple's CDN.
 */
function fetcher(
  proxy: {
    request?: (headers: Record<string, string>) => Record<string, string>;
    contentRange?: (value: string | undefined) => string | undefined;
    /** Drops the Content-Length, as a chunked answer (or a proxy re-chunking it) has none. */
    chunked?: boolean;
    /** Sets (or replaces) answer headers. */
    answer?: Record<string, string>;
  } = {},
) {
  const seen: Seen[] = [];
  const fetch: Fetcher = {
    download: async (target, options = {}) => {
      const entry: Seen = { headers: { ...options.headers }, signal: options.signal !== undefined };
      seen.push(entry);
      const headers = proxy.request ? proxy.request({ ...options.headers }) : (options.headers ?? {});
      const response = await world.session.download(target, { ...options, headers });
      entry.response = response;
      let answered = response.headers;
      if (proxy.chunked) {
        const { "content-length": _, ...rest } = answered;
        answered = rest;
      }
      if (proxy.answer) answered = { ...answered, ...proxy.answer };
      if (!proxy.contentRange) return { ...response, headers: answered };
      const range = proxy.contentRange(answered["content-range"]);
      const { "content-range": _, ...rest } = answered;
      return { ...response, headers: range === undefined ? rest : { ...rest, "content-range": range } };
    },
  };
  return { fetch, seen };
}

const fault = (spec: Omit<FaultSpec, "endpoint">) => world.sim.faults.add({ endpoint: "photos.download", ...spec });
const served = () => world.served("photos.download");
const hash = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const partIsOriginal = async () => expect(hash(await readFile(part))).toBe(hash(original));
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

describe("fetchToPart", () => {
  it("downloads a new file whole, without a Range header", async () => {
    const { fetch, seen } = fetcher();
    await fetchToPart(fetch, url, part, size);
    await partIsOriginal();
    expect(seen.map((s) => s.headers)).toEqual([{}]);
  });

  it("resumes a part from where it ends and appends the rest", async () => {
    await writeFile(part, original.subarray(0, 5000));
    const { fetch, seen } = fetcher();
    await fetchToPart(fetch, url, part, size);
    await partIsOriginal();
    expect(seen.map((s) => s.headers)).toEqual([{ Range: "bytes=5000-" }]);
  });

  it("asks nothing when the part is already complete", async () => {
    await writeFile(part, original);
    const before = served();
    await fetchToPart(fetcher().fetch, url, part, size);
    expect(served()).toBe(before);
    await partIsOriginal();
  });

  it("starts over when the part is larger than the record says", async () => {
    await writeFile(part, Buffer.concat([original, Buffer.from("trailing garbage")]));
    const { fetch, seen } = fetcher();
    await fetchToPart(fetch, url, part, size);
    await partIsOriginal();
    expect(seen.map((s) => s.headers)).toEqual([{}]);
  });

  it("writes from zero when the server ignores the range (200, or 206 from byte 0)", async () => {
    await writeFile(part, Buffer.alloc(5000, 0x55)); // not the photo's bytes: must not survive
    await fetchToPart(fetcher({ request: () => ({}) }).fetch, url, part, size);
    await partIsOriginal();
    await writeFile(part, Buffer.alloc(5000, 0x55));
    await fetchToPart(fetcher({ request: () => ({ Range: "bytes=0-" }) }).fetch, url, part, size);
    await partIsOriginal();
  });

  it("refuses a 206 that starts elsewhere or says nothing of where, leaving the part as it was", async () => {
    const start = original.subarray(0, 5000);
    for (const contentRange of [() => "bytes 6000-9999/99999", () => undefined, () => "xbytes 5000-9999/99999"]) {
      await writeFile(part, start);
      const { fetch, seen } = fetcher({ contentRange });
      const error = await failure(fetchToPart(fetch, url, part, size));
      expect(isEngineError(error, "DOWNLOAD_FAILED")).toBe(true);
      expect((error as Error).message).toMatch(/^download answered bytes from (6000|\?), asked from 5000$/);
      expect(await readFile(part)).toEqual(start);
      expect(seen[0]?.response?.body.destroyed).toBe(true);
    }
  });

  it("416 on a resume: drops the part so the next attempt starts over", async () => {
    await writeFile(part, original.subarray(0, 5000));
    fault({ kind: "status", status: 416, times: 1 });
    const { fetch, seen } = fetcher();
    const error = await failure(fetchToPart(fetch, url, part, size));
    expect(error).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: "download range not satisfiable; restarting the file",
    });
    await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
    expect(seen[0]?.response?.body.destroyed).toBe(true);
    await fetchToPart(fetch, url, part, size);
    await partIsOriginal();
  });

  it("403/410: the URL expired (ask for a new one); other statuses fail; the part is kept", async () => {
    for (const status of [403, 410]) {
      await writeFile(part, original.subarray(0, 100));
      fault({ kind: "status", status, times: 1 });
      const { fetch, seen } = fetcher();
      const error = await failure(fetchToPart(fetch, url, part, size));
      expect(error).toBeInstanceOf(ExpiredUrlError);
      expect(error).toMatchObject({ name: "ExpiredUrlError", message: `download URL refused (HTTP ${status})` });
      expect(seen[0]?.response?.body.destroyed).toBe(true);
      expect((await stat(part)).size).toBe(100);
    }
    for (const status of [404, 416, 500]) {
      await rm(part, { force: true });
      fault({ kind: "status", status, times: 1, body: "error page" });
      const { fetch, seen } = fetcher();
      const error = await failure(fetchToPart(fetch, url, part, size));
      expect(error).not.toBeInstanceOf(ExpiredUrlError);
      expect(error).toMatchObject({
        code: "DOWNLOAD_FAILED",
        message: `download answered HTTP ${status}`,
        info: { status },
      });
      expect(seen[0]?.response?.body.destroyed).toBe(true);
      await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
    }
  });

  it("a whole body announcing another length is the file changed in iCloud: refused unwritten, part dropped", async () => {
    fault({ kind: "short_body", bytes: 7000, times: 1 });
    const { fetch, seen } = fetcher();
    const error = await failure(fetchToPart(fetch, url, part, size));
    expect(error).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `the file changed in iCloud during the download (7000 bytes, the record says ${size}); retried later`,
      info: { changed: true },
    });
    expect(seen[0]?.response?.body.destroyed).toBe(true);
    await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
    // The same for a body longer than the record says.
    const tooLong = await failure(fetchToPart(fetcher().fetch, url, part, size - 1));
    expect(tooLong).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `the file changed in iCloud during the download (${size} bytes, the record says ${size - 1}); retried later`,
    });
    await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a resumed body cut short cleanly (its Content-Length says so) is refused unwritten; the part stays", async () => {
    await writeFile(part, original.subarray(0, 5000));
    fault({ kind: "short_body", bytes: 7000, times: 1 });
    const { fetch, seen } = fetcher();
    const error = await failure(fetchToPart(fetch, url, part, size));
    expect(error).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `download announced 7000 bytes where ${size - 5000} were expected; not written`,
      info: { status: 206 },
    });
    expect(seen[0]?.response?.body.destroyed).toBe(true);
    expect(await readFile(part)).toEqual(original.subarray(0, 5000));
    await fetchToPart(fetcher().fetch, url, part, size);
    await partIsOriginal();
  });

  it("a body without a length cut short cleanly keeps what came, to resume; one too long is dropped", async () => {
    fault({ kind: "short_body", bytes: 7000, times: 1 });
    const error = await failure(fetchToPart(fetcher({ chunked: true }).fetch, url, part, size));
    expect(error).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `download ended after 7000 of ${size} bytes; will resume`,
    });
    expect(await readFile(part)).toEqual(original.subarray(0, 7000));
    const { fetch, seen } = fetcher();
    await fetchToPart(fetch, url, part, size);
    expect(seen.map((s) => s.headers)).toEqual([{ Range: "bytes=7000-" }]);
    await partIsOriginal();

    await rm(part);
    const tooLong = await failure(fetchToPart(fetcher({ chunked: true }).fetch, url, part, size - 1));
    expect(tooLong).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `download delivered ${size} bytes, the record says ${size - 1}`,
    });
    await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a Content-Length of an encoded body is not the file's; of an identity or plain body it is, if all digits", async () => {
    // Encoded (here only announced so): its length says nothing of the file, the written bytes are checked.
    await fetchToPart(
      fetcher({ answer: { "content-encoding": "gzip", "content-length": "123" } }).fetch,
      url,
      part,
      size,
    );
    await partIsOriginal();
    await rm(part);
    // "identity" is no encoding: its length is the file's, and another one is the file changed.
    const identity = await failure(
      fetchToPart(
        fetcher({ answer: { "content-encoding": "identity", "content-length": "123" } }).fetch,
        url,
        part,
        size,
      ),
    );
    expect(identity).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `the file changed in iCloud during the download (123 bytes, the record says ${size}); retried later`,
    });
    // A length that is not all digits announces no size: the body is refused as not the announced one.
    for (const length of [`x${size}`, `${size}x`]) {
      const error = await failure(
        fetchToPart(fetcher({ answer: { "content-length": length } }).fetch, url, part, size),
      );
      expect(error).toMatchObject({
        code: "DOWNLOAD_FAILED",
        message: `download announced ${length} bytes where ${size} were expected; not written`,
      });
    }
    await expect(stat(part)).rejects.toMatchObject({ code: "ENOENT" });
    // On a resume the total comes from Content-Range; an identity body's length must still be the rest.
    await writeFile(part, original.subarray(0, 5000));
    const resumed = await failure(
      fetchToPart(
        fetcher({ answer: { "content-encoding": "identity", "content-length": "123" } }).fetch,
        url,
        part,
        size,
      ),
    );
    expect(resumed).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `download announced 123 bytes where ${size - 5000} were expected; not written`,
    });
    expect(await readFile(part)).toEqual(original.subarray(0, 5000));
  });

  it("a resumed Content-Range total counts only as `bytes a-b/n` (surrounding blanks aside)", async () => {
    const resumeWith = async (contentRange: (value: string | undefined) => string | undefined) => {
      await writeFile(part, original.subarray(0, 5000));
      return fetchToPart(fetcher({ contentRange }).fetch, url, part, size).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    // Trailing blanks are no part of the total (of several digits): another total is the file changed.
    expect(await resumeWith((value) => `${value?.replace(/\/\d+$/, "/123")}  `)).toMatchObject({
      code: "DOWNLOAD_FAILED",
      message: `the file changed in iCloud during the download (123 bytes, the record says ${size}); retried later`,
    });
    // A total followed or preceded by something else is no total: the body is taken on its Content-Length.
    for (const odd of [(value?: string) => `${value}0 junk`, (value?: string) => `${value}/junk bytes 0-0/1`]) {
      expect(await resumeWith(odd)).toBeUndefined();
      await partIsOriginal();
    }
  });

  it("an empty file is fetched too (the part must exist afterwards)", async () => {
    fault({ kind: "short_body", bytes: 0, times: 1 });
    await fetchToPart(fetcher().fetch, url, part, 0);
    expect((await stat(part)).size).toBe(0);
  });

  it("an aborted signal stops before asking; the part is left for the next attempt", async () => {
    await writeFile(part, original.subarray(0, 100));
    const before = served();
    const { fetch, seen } = fetcher();
    const controller = new AbortController();
    controller.abort();
    await expect(fetchToPart(fetch, url, part, size, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(seen.map((s) => s.signal)).toEqual([true]);
    expect(served()).toBe(before);
    expect((await stat(part)).size).toBe(100);
    const plain = fetcher();
    await fetchToPart(plain.fetch, url, part, size);
    expect(plain.seen.map((s) => s.signal)).toEqual([false]);
  });

  it("a part it cannot look at is an error before any request", async () => {
    const blocker = path.join(dir, "not-a-folder");
    await writeFile(blocker, "x");
    const before = served();
    await expect(fetchToPart(fetcher().fetch, url, path.join(blocker, "x.part"), size)).rejects.toMatchObject({
      code: "ENOTDIR",
    });
    expect(served()).toBe(before);
  });
});
