import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readDownload } from "../../src/icloud/download-body.ts";

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);

function response(type: string, chunks: Array<Buffer | Error>) {
  const body = Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        if (chunk instanceof Error) throw chunk;
        yield chunk;
      }
    })(),
  );
  return { status: 200, headers: { "content-type": type }, body };
}

describe("readDownload: a file's body, checked", () => {
  it("answers the bytes of a complete body of the announced size", async () => {
    const res = response("image/jpeg", [JPEG.subarray(0, 3), JPEG.subarray(3)]);
    expect(await readDownload(res, { what: "the photo", maxBytes: 100, expectedSize: JPEG.length })).toEqual(JPEG);
  });

  it("refuses JSON, HTML or text answers (error pages), a body cut short, too long or of another size", async () => {
    const cases = [
      [response("application/json;charset=UTF-8", [Buffer.from('{"success": tru')]), {}, /as application\/json/],
      [response("text/html", [Buffer.from("<html>")]), {}, /as text\/html/],
      [response("image/jpeg", [JPEG.subarray(0, 3), new Error("other side closed")]), {}, /cut short after 3 bytes/],
      [response("image/jpeg", [JPEG]), { maxBytes: 4 }, /larger than 4 bytes/],
      [response("application/octet-stream", [JPEG]), { expectedSize: 9 }, /8 bytes instead of 9/],
    ] as const;
    for (const [res, options, message] of cases) {
      await expect(readDownload(res, { what: "the file", maxBytes: 100, ...options })).rejects.toMatchObject({
        code: "DOWNLOAD_FAILED",
        retryable: true,
        message: expect.stringMatching(message),
      });
    }
  });
});
