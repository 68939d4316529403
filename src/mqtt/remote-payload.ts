import type { z } from "zod";

export type Parsed<T> = { ok: true; data: T } | { ok: false; reason: string };

/** `path: message; …` from a zod error, never quoting the payload. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

/** A JSON payload received over MQTT, parsed with `schema` (the edge: nothing unparsed gets in). */
export function parseJsonPayload<S extends z.ZodType>(payload: Buffer, schema: S): Parsed<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, reason: describeIssues(parsed.error) };
}

/** The part of `topic` after `prefix/`, when it is a single topic level; undefined otherwise. */
export function topicLevelAfter(topic: string, prefix: string): string | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const rest = topic.slice(prefix.length + 1);
  return rest.length > 0 && !rest.includes("/") ? rest : undefined;
}
