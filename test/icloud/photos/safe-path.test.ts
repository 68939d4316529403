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
  });

  it("builds date folders from the local capture date", () => {
    expect(folderSegments("{yyyy}/{mm}/{dd}", dateParts("2020-09-18T23:30:00-04:00"))).toEqual(["2020", "09", "18"]);
    expect(folderSegments("none", dateParts("2020-09-18T00:00:00Z"))).toEqual([]);
    expect(folderSegments("../{yyyy}", dateParts("2020-09-18T00:00:00Z"))).toEqual(["_", "2020"]);
  });

  it("suffixes a second file with a short id", () => {
    expect(withSuffix("IMG_1.HEIC", "AbC/d+9x")).toBe("IMG_1-AbCd9x.HEIC");
    expect(withSuffix("noext", "123")).toBe("noext-123");
  });
});
