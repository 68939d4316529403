import { createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { EngineError } from "../../errors.ts";
import type { ServiceTransport } from "../service-transport.ts";

export type Fetcher = Pick<ServiceTransport, "download">;

/** Thrown when the signed URL is no longer accepted (403/410): the caller asks CloudKit for a new one. */
export class ExpiredUrlError extends Error {
  override readonly name = "ExpiredUrlError";
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Drops an unwanted response body without an unhandled 'error' from the destroyed stream. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on("error", () => undefined);
  body.destroy();
}

/** First byte of a `Content-Range: bytes a-b/n` header. */
function rangeStart(header: string | undefined): number | undefined {
  const match = /^bytes (\d+)-/.exec(header ?? "");
  return match ? Number(match[1]) : undefined;
}

/** Full length `n` of a `Content-Range: bytes a-b/n` header (undefined for `*` or no header). */
function rangeTotal(header: string | undefined): number | undefined {
  const match = /^bytes [^/]*\/(\d+)$/.exec(header?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}

/** The whole length the server announces for the file, from Content-Range or (on a 200) Content-Length. */
function announcedSize(status: number, headers: Record<string, string>): number | undefined {
  if (status === 206) return rangeTotal(headers["content-range"]);
  // A compressed body's length is not the file's.
  if (headers["content-encoding"] !== undefined && headers["content-encoding"] !== "identity") return undefined;
  const length = headers["content-length"];
  return length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
}

/**
 * Brings `part` to `size` bytes from `url`, resuming with `Range: bytes=N-` from what it already
 * holds. Never deletes a partial file on interruption (abort, cut connection) so the next attempt
 * resumes; restarts from zero only when the server ignores the range (200, or 206 from byte 0) or the
 * part is larger than the record says; refuses a 206 that starts anywhere else. Resolves when `part`
 * holds exactly `size` bytes.
 */
export async function fetchToPart(
  fetcher: Fetcher,
  url: string,
  part: string,
  size: number,
  signal?: AbortSignal,
  mode = 0o600,
): Promise<void> {
  let offset = (await sizeOf(part)) ?? 0;
  if (offset > size) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (offset === size && (await sizeOf(part)) !== undefined) return;
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  const response = await fetcher.download(url, { headers, ...(signal === undefined ? {} : { signal }) });
  const { status } = response;
  const start = status === 206 ? rangeStart(response.headers["content-range"]) : undefined;
  let append = false;
  if (status === 206 && start === offset) append = true;
  else if (status === 206 && start !== 0) {
    // A part from elsewhere in the file: appended or written from zero, it would corrupt the photo.
    discard(response.body);
    throw new EngineError("DOWNLOAD_FAILED", `download answered bytes from ${start ?? "?"}, asked from ${offset}`);
  } else if (status === 416 && offset > 0) {
    discard(response.body);
    await rm(part, { force: true });
    throw new EngineError("DOWNLOAD_FAILED", "download range not satisfiable; restarting the file");
  } else if (status !== 200 && status !== 206) {
    discard(response.body);
    if (status === 403 || status === 410) throw new ExpiredUrlError(`download URL refused (HTTP ${status})`);
    throw new EngineError("DOWNLOAD_FAILED", `download answered HTTP ${status}`, { info: { status } });
  }
  // The server's file is not the one the record describes (edited in iCloud since the listing, or a
  // different object behind the URL): what the part holds may belong to another version, so it goes.
  const total = announcedSize(status, response.headers);
  if (total !== undefined && total !== size) {
    discard(response.body);
    await rm(part, { force: true });
    throw new EngineError(
      "DOWNLOAD_FAILED",
      `the file changed in iCloud during the download (${total} bytes, the record says ${size}); retried later`,
      { info: { changed: true } },
    );
  }

  // A body that announces another length than the record's file (an error page, a broken proxy)
  // is not the file: writing it and resuming after it would leave a corrupt photo of the right size.
  const declared = response.headers["content-length"];
  const expected = append ? size - offset : size;
  const encoded =
    response.headers["content-encoding"] !== undefined && response.headers["content-encoding"] !== "identity";
  if (declared !== undefined && !encoded && Number(declared) !== expected) {
    discard(response.body);
    throw new EngineError(
      "DOWNLOAD_FAILED",
      `download announced ${declared} bytes where ${expected} were expected; not written`,
      { info: { status } },
    );
  }
  await pipeline(response.body, createWriteStream(part, { flags: append ? "a" : "w", mode }), {
    ...(signal === undefined ? {} : { signal }),
  });
  const written = (await sizeOf(part)) ?? 0;
  if (written > size) {
    await rm(part, { force: true });
    throw new EngineError("DOWNLOAD_FAILED", `download delivered ${written} bytes, the record says ${size}`);
  }
  if (written < size) {
    throw new EngineError("DOWNLOAD_FAILED", `download ended after ${written} of ${size} bytes; will resume`);
  }
}
