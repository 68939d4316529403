/**
 * Durations as written in configuration and scenario files: a number of seconds or a string such
 * as `500ms`, `30s`, `5m`, `1h`, `1d` or `1h30m`.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const SECONDS_RE = /^\d+(?:\.\d+)?$/;

/**
 * Milliseconds for a duration, or `undefined` when `value` is not one. Negatives are never durations;
 * zero is one only with `allowZero` (a simulator clock offset), never for configured intervals.
 */
export function tryParseDuration(value: unknown, options: { allowZero?: boolean } = {}): number | undefined {
  let ms: number;
  if (typeof value === "number") {
    ms = value * 1_000;
  } else if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (SECONDS_RE.test(text)) {
      ms = Number(text) * 1_000;
    } else if (DURATION_RE.test(text)) {
      ms = 0;
      for (const [, amount, unit] of text.matchAll(PART_RE)) ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
    } else {
      return undefined;
    }
  } else {
    return undefined;
  }
  return Number.isFinite(ms) && (ms > 0 || (options.allowZero === true && ms === 0)) ? Math.round(ms) : undefined;
}

/** Milliseconds for `"30m"`, `"1h30m"`, `"500ms"` or a number of seconds. Throws on anything else. */
export function parseDuration(value: string | number): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw new TypeError(`${JSON.stringify(value)} is not a duration like 30s, 5m or 1h`);
  return ms;
}

/** `300000` → `5m`, `90000` → `1m30s`: for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}
