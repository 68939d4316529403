import { z } from "zod";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `30d`, `15m`, `1h`, `10s`, `500ms` into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const unit = UNITS[match[2]];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/** Scenario lifetimes: a number of seconds or a duration string; parsed to milliseconds. */
export const secondsOrDuration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return Math.round(value * 1000);
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `not a duration: ${value} (use e.g. 30d, 15m, 1h or seconds)` });
    return z.NEVER;
  }
  return ms;
});

/** Admin clock advance: a number of milliseconds or a duration string; parsed to milliseconds. */
export const msOrDuration = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return Math.round(value);
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `not a duration: ${value}` });
    return z.NEVER;
  }
  return ms;
});
