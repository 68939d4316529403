import { EngineError } from "../errors.ts";
import type { DownloadResponse } from "./service-transport.ts";

export interface ReadDownloadOptions {
  /** Named in errors ("the contact photo", "the attachment"). */
  what: string;
  /** Longer bodies are refused (the stream is destroyed). */
  maxBytes: number;
  /** The size the record announced, when known: another length is refused. */
  expectedSize?: number | null;
}

/**
 * The whole body of a 200 download of a file (a contact photo, a note attachment), checked: an
 * answer that is JSON, HTML or text is an error page, not the file; a body cut short, longer than
 * `maxBytes` or of another size than announced is refused. All of these are DOWNLOAD_FAILED
 * (retryable), never a partial file.
 */
export async function readDownload(response: DownloadResponse, options: ReadDownloadOptions): Promise<Buffer> {
  const { what, maxBytes } = options;
  const type = (response.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.startsWith("text/")) {
    response.body.on("error", () => undefined);
    response.body.destroy();
    throw new EngineError("DOWNLOAD_FAILED", `${what} came back as ${type}, not as the file`, { info: { type } });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new EngineError("DOWNLOAD_FAILED", `${what} is larger than ${maxBytes} bytes`);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError("DOWNLOAD_FAILED", `${what} was cut short after ${size} bytes`, { cause: error });
  }
  const expected = options.expectedSize;
  if (expected !== undefined && expected !== null && expected !== size)
    throw new EngineError("DOWNLOAD_FAILED", `${what} has ${size} bytes instead of ${expected}`, {
      info: { size, expected },
    });
  return Buffer.concat(chunks);
}
