import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const BIOME = fileURLToPath(new URL("../../node_modules/@biomejs/biome/bin/biome", import.meta.url));
const GOLDEN_ROOT = fileURLToPath(new URL("../golden/", import.meta.url));

/** JSON with keys sorted at every level (Buffers as base64 strings), two-space indent, trailing newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Buffer.isBuffer(v)) return { base64: v.toString("base64") };
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/**
 * Compares `value` with test/golden/<path>.json, keys and key order included (whitespace is left to
 * the formatter); `UPDATE_GOLDEN=1` (or a missing file outside CI) rewrites the file instead.
 */
export function expectGoldenFile(path: string, value: unknown): void {
  const file = join(GOLDEN_ROOT, `${path}.json`);
  const actual = stableJson(value);
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(file)) {
    if (process.env["CI"] !== undefined && process.env["UPDATE_GOLDEN"] !== "1")
      throw new Error(`missing golden ${file}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    execFileSync(process.execPath, [BIOME, "format", "--write", file], { stdio: "ignore" });
  }
  const golden: unknown = JSON.parse(readFileSync(file, "utf8"));
  expect(JSON.parse(actual)).toEqual(golden);
  expect(JSON.stringify(JSON.parse(actual))).toBe(JSON.stringify(golden));
}
