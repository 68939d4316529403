import { Cron } from "croner";
import { tryParseDuration } from "../util/duration.ts";

export { formatDuration, parseDuration, tryParseDuration } from "../util/duration.ts";

/**
 * Schedules as written in the configuration (durations: see util/duration.ts).
 * A schedule is a duration (a fixed interval) or a 5/6-field cron expression (`*\/15 * * * *`, `@hourly`).
 */

export type Schedule = { kind: "interval"; ms: number } | { kind: "cron"; expression: string };

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
