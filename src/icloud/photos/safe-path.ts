import path from "node:path";
import { EngineError } from "../../errors.ts";

/** Longest file name written, in UTF-8 bytes (most file systems allow 255; room for `.part` and suffixes). */
export const MAX_NAME_BYTES = 180;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
// C0/C1 controls, and the format characters that make a name read differently than it is
// (bidi overrides/isolates, zero-width characters, BOM).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const SEPARATORS_AND_RESERVED = /[/\\:*?"<>|]/g;

function truncateBytes(text: string, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, "utf8");
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

/**
 * Makes a name from iCloud safe as ONE path segment on Linux, macOS and Windows: no separators, no
 * `.`/`..`, no leading dots (hidden files, `.part` clashes), no control or bidi characters, no
 * trailing dots/spaces, no reserved device names, at most {@link MAX_NAME_BYTES} bytes with the
 * extension kept. Never throws; an unusable name becomes `fallback`.
 */
export function sanitizeFilename(raw: string, fallback: string): string {
  let name = raw.normalize("NFC").replace(INVISIBLE, "").replace(SEPARATORS_AND_RESERVED, "_");
  name = name.replace(/^[\s.]+/, "").replace(/[\s.]+$/, "");
  if (name === "") name = fallback.replace(SEPARATORS_AND_RESERVED, "_").replace(/^[\s.]+/, "") || "unnamed";
  const dot = name.lastIndexOf(".");
  let stem = dot > 0 ? name.slice(0, dot) : name;
  let ext = dot > 0 ? name.slice(dot) : "";
  if (WINDOWS_RESERVED.test(stem.split(".")[0] ?? "")) stem = `_${stem}`;
  if (Buffer.byteLength(ext, "utf8") > 16) {
    stem = `${stem}${ext}`;
    ext = "";
  }
  stem = truncateBytes(stem, MAX_NAME_BYTES - Buffer.byteLength(ext, "utf8")).replace(/[\s.]+$/, "");
  return `${stem || "unnamed"}${ext}`;
}

/** `IMG_1.HEIC` + `AbC/d+9` → `IMG_1-AbCd9.HEIC`: a name for a second, different file with the same name. */
export function withSuffix(filename: string, suffix: string): string {
  const clean = suffix.replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "x";
  const dot = filename.lastIndexOf(".");
  const stem = dot > 0 ? filename.slice(0, dot) : filename;
  const ext = dot > 0 ? filename.slice(dot) : "";
  return `${truncateBytes(stem, MAX_NAME_BYTES - 9 - Buffer.byteLength(ext, "utf8"))}-${clean}${ext}`;
}

/**
 * Resolves `segments` under `root` and proves the result stays inside it (`path.relative` neither
 * climbs out nor is absolute). Throws INVALID_INPUT otherwise; never returns a path outside `root`.
 */
export function resolveInside(root: string, ...segments: string[]): string {
  const base = path.resolve(root);
  const target = path.resolve(base, ...segments);
  const relative = path.relative(base, target);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new EngineError("INVALID_INPUT", "refusing a download path outside the library folder", {
      info: { relative },
    });
  }
  return target;
}

export interface DateParts {
  yyyy: string;
  mm: string;
  dd: string;
}

/** Local capture date of an ISO string (`2020-09-18T13:32:17+01:00` → 2020/09/18), as written. */
export function dateParts(iso: string): DateParts {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return match
    ? { yyyy: match[1] ?? "0000", mm: match[2] ?? "00", dd: match[3] ?? "00" }
    : { yyyy: "0000", mm: "00", dd: "00" };
}

/**
 * Folder segments for a template such as `{yyyy}/{mm}/{dd}` or `none`. Every segment is sanitised, so
 * a template cannot introduce `..` either.
 */
export function folderSegments(template: string, parts: DateParts): string[] {
  if (template === "none" || template.trim() === "") return [];
  return template
    .split(/[/\\]/)
    .map((segment) => segment.replace(/\{(yyyy|mm|dd)\}/g, (_, key: keyof DateParts) => parts[key]))
    .filter((segment) => segment !== "")
    .map((segment) => sanitizeFilename(segment, "_"));
}
