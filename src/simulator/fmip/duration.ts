import { z } from "zod";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses a scenario duration such as `"10s"`, `"30m"`, `"1.5h"`, `"2d"` into milliseconds. */
export function parseDuration(text: string): number {
  const match = PATTERN.exec(text.trim());
  const amount = match?.[1];
  const unit = match?.[2];
  if (amount === undefined || unit === undefined) throw new Error(`invalid duration: ${JSON.stringify(text)}`);
  return Math.round(Number(amount) * (UNITS[unit] ?? 1));
}

/** A scenario duration: a string with a unit, or a number of milliseconds. Parsed to milliseconds. */
export const durationSchema = z.union([
  z.number().nonnegative(),
  z
    .string()
    .regex(PATTERN, 'expected a duration like "10s", "30m", "2h"')
    .transform((text) => parseDuration(text)),
]);
