import { z } from "zod";
import { scheduleProblem, tryParseDuration } from "./schedule.ts";

/** Small reusable field builders for the configuration schema. */

/** An interval (`30s`, `5m`, `1h`, number = seconds) or a 5/6-field cron expression. */
export function scheduleField(defaultValue: string, description: string) {
  return z
    .union([z.string(), z.number()])
    .superRefine((value, ctx) => {
      const problem = scheduleProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
    })
    .default(defaultValue)
    .describe(`${description} An interval ("30s", "5m", "1h"; a number means seconds) or a 5/6-field cron expression.`);
}

/** A duration (`30s`, `5m`, `1h`, number = seconds). */
export function durationField(defaultValue: string, description: string) {
  return z
    .union([z.string(), z.number()])
    .superRefine((value, ctx) => {
      if (tryParseDuration(value) === undefined) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a duration like 30s, 5m or 1h` });
      }
    })
    .default(defaultValue)
    .describe(`${description} A duration ("30s", "5m", "1h"; a number means seconds).`);
}

/** A nullable string defaulting to null. */
export function nullableString(description: string) {
  return z.string().min(1).nullable().default(null).describe(description);
}

/** An MQTT topic or topic prefix: no wildcards, no leading or trailing slash. */
export function topicField(defaultValue: string, description: string) {
  return z
    .string()
    .min(1)
    .refine((value) => !/[+#]/.test(value) && !value.includes("\0"), "must not contain the MQTT wildcards + or #")
    .refine((value) => !value.startsWith("/") && !value.endsWith("/"), "must not start or end with /")
    .default(defaultValue)
    .describe(description);
}

/** Why a broker URL that has the right scheme cannot be used (a port outside 1–65535, no host, …), or undefined. */
export function brokerUrlProblem(url: string): string | undefined {
  const authority = /^[a-z]+:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(url);
  if (authority === null) return "is not a valid URL";
  const [, host, portText] = authority;
  if (host === undefined || host === "" || host === "[]") return "has no host name";
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535)
      return `has port ${JSON.stringify(portText)}; a port is a number from 1 to 65535`;
  }
  return URL.canParse(url) ? undefined : "is not a valid URL";
}

export function port(defaultValue: number, description: string) {
  return z.number().int().min(0).max(65_535).default(defaultValue).describe(description);
}

/** Adds "`a` and `b` cannot both be set" when both keys of `value` are non-null. */
export function notBoth(
  value: Record<string, unknown>,
  a: string,
  b: string,
  ctx: z.RefinementCtx,
  prefix: PropertyKey[] = [],
): void {
  const isSet = (key: string) => value[key] !== null && value[key] !== undefined;
  if (isSet(a) && isSet(b)) {
    ctx.addIssue({ code: "custom", path: [...prefix, b], message: `set either ${a} or ${b}, not both` });
  }
}

/** True for hosts that only accept local connections. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}
