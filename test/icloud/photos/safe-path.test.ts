import path from "node:path";
import { describe, expect, it } from "vitest";
import { isEngineError } from "../../../src/errors.ts";
import {
  dateParts,
  folderSegments,
  MAX_NAME_BYTES,
  resolveInside,
  sanitizeFilename,
  withSuffix,
} from "../../../src/icloud/photos/safe-path.ts";

const HOSTILE = [
  "../../etc/passwd",
  "..",
  ".",
  "",
  "/absolute/path.jpg",
  "C:\\Windows\\system32\\evil.jpg",
  "..\\..\\up.jpg",
  "a/../../b.jpg",
  "IMG\u0000_1.JPG",
  "new\nline\r.jpg",
  "gpj.\u202eEXE.jpg",
  "CON",
  "con.txt",
  "LPT1.jpg",
  "aux",
  "name.   ",
  "...",
  " .hidden.jpg",
  "x".repeat(1000),
  `${"é".repeat(300)}.heic`,
  "😀".repeat(200),
  'a:b*c?d"e<f>g|h.jpg',
  "\u0085\u009f",
];

describe("sanitizeFilename", () => {
  it.each(HOSTILE)("makes %j one safe segment", (raw) => {
    const name = sanitizeFilename(raw, "asset-1234");
    expect(name.length).toBeGreaterThan(0);
    expect(name).not.toMatch(/[/\\:*?"<>|]/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none remain
    expect(name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(name.startsWith(".")).toBe(false);
    expect(name).not.toMatch(/[ .]$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(name)).toBe(false);
    expect(path.basename(name)).toBe(name);
    expect(resolveInside("/lib", name).startsWith("/lib/")).toBe(true);
  });

  it("keeps ordinary names and the extension of long ones", () => {
    expect(sanitizeFilename("IMG_0002.HEIC", "x")).toBe("IMG_0002.HEIC");
    expect(sanitizeFilename("Café au lait.jpg", "x")).toBe("Café au lait.jpg");
    expect(sanitizeFilename(`${"é".repeat(300)}.heic`, "x").endsWith(".heic")).toBe(true);
    expect(sanitizeFilename("..", "asset-1")).toBe("asset-1");
    expect(sanitizeFilename("CON.jpg", "x")).toBe("_CON.jpg");
  });

  it("keeps an extension of up to 16 bytes; a longer one is part of the name (and may be cut)", () => {
    const ext16 = `.${"e".repeat(15)}`; // 16 bytes with the dot: still an extension
    const long = sanitizeFilename(`${"n".repeat(400)}${ext16}`, "x");
    expect(long).toBe(`${"n".repeat(MAX_NAME_BYTES - 16)}${ext16}`);
    const ext17 = `.${"e".repeat(16)}`; // 17 bytes: not an extension, truncated with the stem
    expect(sanitizeFilename(`${"n".repeat(400)}${ext17}`, "x")).toBe("n".repeat(MAX_NAME_BYTES));
    expect(sanitizeFilename(`short${ext17}`, "x")).toBe(`short${ext17}`);
    // Bytes, not characters: 8 two-byte characters make a 17-byte extension.
    expect(sanitizeFilename(`${"n".repeat(400)}.${"é".repeat(8)}`, "x")).toBe("n".repeat(MAX_NAME_BYTES));
    expect(Buffer.byteLength(sanitizeFilename(`${"n".repeat(400)}.${"é".repeat(7)}`, "x"))).toBe(MAX_NAME_BYTES);
  });

  it("never ends a cut name with a dot or space, and falls back when nothing is left", () => {
    const cut = sanitizeFilename(`${"a".repeat(MAX_NAME_BYTES - 5)} b.jpg`, "x");
    expect(cut).toBe(`${"a".repeat(MAX_NAME_BYTES - 5)}.jpg`);
    expect(sanitizeFilename("\u202e\u200b", "fallback-1")).toBe("fallback-1");
    expect(sanitizeFilename("", "../up")).toBe("_up");
    expect(sanitizeFilename("...", " ..")).toBe("unnamed");
    expect(sanitizeFilename("a.b.c", "x")).toBe("a.b.c");
    expect(sanitizeFilename(".jpg", "x")).toBe("jpg");
    expect(sanitizeFilename("COM1.tar.gz", "x")).toBe("_COM1.tar.gz");
    expect(sanitizeFilename("nul", "x")).toBe("_nul");
    expect(sanitizeFilename("console.jpg", "x")).toBe("console.jpg");
  });

  it("replaces separators with _, trims dots and spaces at both ends, keeps dots inside", () => {
    expect(sanitizeFilename("a/b:c.jpg", "x")).toBe("a_b_c.jpg");
    expect(sanitizeFilename("photo.jpg. ", "x")).toBe("photo.jpg");
    expect(sanitizeFilename("", "asset.1")).toBe("asset.1");
    expect(sanitizeFilename("", "a/b")).toBe("a_b");
    expect(sanitizeFilename("falcon.jpg", "x")).toBe("falcon.jpg");
    expect(sanitizeFilename("aux.tar.gz", "x")).toBe("_aux.tar.gz");
    // A cut that ends in dots and spaces loses all of them.
    const cut = sanitizeFilename(`${"a".repeat(MAX_NAME_BYTES - 7)}. .x.jpg`, "x");
    expect(cut).toBe(`${"a".repeat(MAX_NAME_BYTES - 7)}.jpg`);
  });

  it("never splits a surrogate pair when truncating", () => {
    const name = sanitizeFilename("😀".repeat(200), "x");
    expect(name).toBe("😀".repeat(MAX_NAME_BYTES / 4));
  });
});

describe("paths", () => {
  it("rejects anything resolving outside the root", () => {
    for (const rel of ["..", "../x", "/etc/passwd", "a/../../x", ""]) {
      try {
        resolveInside("/lib", rel);
        expect.unreachable(rel);
      } catch (error) {
        expect(isEngineError(error, "INVALID_INPUT")).toBe(true);
      }
    }
    expect(resolveInside("/lib", "2020", "09", "a.jpg")).toBe("/lib/2020/09/a.jpg");
    expect(() => resolveInside("/lib", "../x")).toThrow(
      expect.objectContaining({
        message: "refusing a download path outside the library folder",
        info: { relative: "../x" },
      }),
    );
  });

  it("builds date folders from the local capture date", () => {
    expect(folderSegments("{yyyy}/{mm}/{dd}", dateParts("2020-09-18T23:30:00-04:00"))).toEqual(["2020", "09", "18"]);
    expect(folderSegments("none", dateParts("2020-09-18T00:00:00Z"))).toEqual([]);
    expect(folderSegments("../{yyyy}", dateParts("2020-09-18T00:00:00Z"))).toEqual(["_", "2020"]);
  });

  it("a blank template is flat; empty segments and backslashes never make extra folders", () => {
    const parts = dateParts("2020-09-18T00:00:00Z");
    expect(folderSegments("", parts)).toEqual([]);
    expect(folderSegments("   ", parts)).toEqual([]);
    expect(folderSegments("/{yyyy}//{mm}/", parts)).toEqual(["2020", "09"]);
    expect(folderSegments("{yyyy}\\{mm}-{dd}", parts)).toEqual(["2020", "09-18"]);
    expect(folderSegments("photos/{yyyy}/{unknown}", parts)).toEqual(["photos", "2020", "{unknown}"]);
    expect(folderSegments("{yyyy}/..", parts)).toEqual(["2020", "_"]);
  });

  it("an unreadable date goes under 0000/00/00", () => {
    expect(dateParts("not a date")).toEqual({ yyyy: "0000", mm: "00", dd: "00" });
    expect(dateParts("")).toEqual({ yyyy: "0000", mm: "00", dd: "00" });
    expect(dateParts("1999-12-31")).toEqual({ yyyy: "1999", mm: "12", dd: "31" });
    expect(dateParts("x2020-09-18")).toEqual({ yyyy: "0000", mm: "00", dd: "00" });
  });

  it("suffixes a second file with a short id", () => {
    expect(withSuffix("IMG_1.HEIC", "AbC/d+9x")).toBe("IMG_1-AbCd9x.HEIC");
    expect(withSuffix("noext", "123")).toBe("noext-123");
    expect(withSuffix("IMG_1.HEIC", "0123456789abcdef")).toBe("IMG_1-01234567.HEIC");
    expect(withSuffix("IMG_1.HEIC", "/+=")).toBe("IMG_1-x.HEIC");
    expect(withSuffix(".hidden", "ab")).toBe(".hidden-ab");
  });

  it("keeps a suffixed name within the limit: the stem is cut by the suffix's 9 bytes", () => {
    const full = sanitizeFilename(`${"n".repeat(400)}.HEIC`, "x");
    expect(Buffer.byteLength(full)).toBe(MAX_NAME_BYTES);
    const suffixed = withSuffix(full, "abcdef12");
    expect(suffixed).toBe(`${"n".repeat(MAX_NAME_BYTES - 9 - 5)}-abcdef12.HEIC`);
    expect(Buffer.byteLength(suffixed)).toBe(MAX_NAME_BYTES);
    // A name just under the limit is kept whole.
    const fits = `${"n".repeat(MAX_NAME_BYTES - 9 - 5)}.HEIC`;
    expect(withSuffix(fits, "abcdef12")).toBe(`${"n".repeat(MAX_NAME_BYTES - 9 - 5)}-abcdef12.HEIC`);
    expect(withSuffix(`${"é".repeat(100)}.jpg`, "ab")).toBe(`${"é".repeat((MAX_NAME_BYTES - 9 - 4) >> 1)}-ab.jpg`);
  });
});
