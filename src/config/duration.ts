import { Cron } from "croner";

/**
 * Durations and schedules as written in the configuration.
 * A duration is a number of seconds or a string such as `500ms`, `30s`, `5m`, `1h`, `1d` or `1h30m`.
 * A schedule is a duration (a fixed interval) or a 5/6-field cron expression (`*\/15 * * * *`, `@hourly`).
 */

export type Schedule = { kind: "interval"; ms: number } | { kind: "cron"; expression: string };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const SECONDS_RE = /^\d+(?:\.\d+)?$/;

/** Milliseconds for a duration, or `undefined` when `value` is not one. Zero and negatives are not durations. */
export function tryParseDuration(value: unknown): number | undefined {
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
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** Milliseconds for `"30m"`, `"1h30m"`, `"500ms"` or a number of seconds. Throws on anything else. */
export function parseDuration(value: string | number): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw new TypeError(`${JSON.stringify(value)} is not a duration like 30s, 5m or 1h`);
  return ms;
}

/** True when croner accepts `expression` as a 5- or 6-field cron expression (or a nickname such as `@hourly`). */
export function isCronExpression(expression: string): boolean {
  try {
    new Cron(expression, { paused: true, mode: "5-or-6-parts" }).stop();
    return true;
  } catch {
    return false;
  }
}

/** Why a schedule value is invalid, or `undefined` when it is valid. */
export function scheduleProblem(value: unknown): string | undefined {
  if (tryParseDuration(value) !== undefined) return undefined;
  if (typeof value === "string" && isCronExpression(value.trim())) return undefined;
  return `${JSON.stringify(value)} is neither an interval like 5m nor a cron expression`;
}

/** Splits a schedule into an interval in milliseconds or a cron expression. Throws when it is neither. */
export function parseSchedule(value: string | number): Schedule {
  const ms = tryParseDuration(value);
  if (ms !== undefined) return { kind: "interval", ms };
  const problem = scheduleProblem(value);
  if (problem !== undefined) throw new TypeError(problem);
  return { kind: "cron", expression: String(value).trim() };
}

/**
 * The shortest gap between runs of a schedule, in milliseconds: the interval itself, or the
 * smallest gap between the next `sample` runs of a cron expression (enough to see `*\/2 * * * *`).
 */
export function shortestGapMs(schedule: Schedule, sample = 48): number {
  if (schedule.kind === "interval") return schedule.ms;
  const cron = new Cron(schedule.expression, { paused: true, mode: "5-or-6-parts" });
  const runs = cron.nextRuns(sample);
  cron.stop();
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) {
    const previous = runs[i - 1];
    const current = runs[i];
    if (previous && current) gap = Math.min(gap, current.getTime() - previous.getTime());
  }
  return gap;
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
