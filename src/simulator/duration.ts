import { z } from "zod";
import { tryParseDuration } from "../util/duration.ts";

function durationMs(value: string, ctx: z.RefinementCtx, hint: string): number {
  const ms = tryParseDuration(value, { allowZero: true });
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `not a duration: ${value}${hint}` });
    return z.NEVER;
  }
  return ms;
}

/** Scenario lifetimes: a number of seconds or a duration string; parsed to milliseconds. */
export const secondsOrDuration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) =>
    typeof value === "number"
      ? Math.round(value * 1000)
      : durationMs(value, ctx, " (use e.g. 30d, 15m, 1h or seconds)"),
  );

/** Admin clock advance: a number of milliseconds or a duration string; parsed to milliseconds. */
export const msOrDuration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => (typeof value === "number" ? Math.round(value) : durationMs(value, ctx, "")));
