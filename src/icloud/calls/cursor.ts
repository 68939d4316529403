import type { z } from "zod";
import { EngineError } from "../../errors.ts";

/**
 * Cursors are opaque to the engine: base64url of a small JSON object that names the source kind
 * (`k`), so a cursor stored for one source is never misread by another.
 */
export function encodeCursor<T extends { k: string }>(value: T): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

export function decodeCursor<T extends { k: string }>(cursor: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    throw invalidCursor(error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidCursor(parsed.error);
  return parsed.data;
}

function invalidCursor(cause: unknown): EngineError {
  return new EngineError(
    "INVALID_STATE",
    "The stored call-history cursor does not belong to this call-history source (was calls.source changed?); clear it to start over",
    { cause },
  );
}
