import { COMMAND_SCHEMAS, type CommandInput, EngineError } from "icloud2mqtt/engine";
import type { z } from "zod";

type Input<C extends "mfa" | "resend_mfa" | "choice"> = Omit<CommandInput<C>, "account">;

export type MfaRequest =
  | { command: "mfa"; input: Input<"mfa"> }
  | { command: "resend_mfa"; input: Input<"resend_mfa"> }
  | { command: "choice"; input: Input<"choice"> };

/** Spaces and dashes people type or paste inside a code (`123 456`, `123-456`). */
function digits(value: unknown): unknown {
  return typeof value === "string" || typeof value === "number" ? String(value).replace(/[\s-]/g, "") : value;
}

function parse<S extends z.ZodType>(command: string, schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problem = parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
  throw new EngineError("INVALID_INPUT", `${command}: ${problem}`);
}

/**
 * What the mfa node's input asks for: `msg.payload = "123456"` (or a number, or `{code}`) submits a
 * code; `{method: "device" | "sms" | "voice", phone_number_id}` sends a new one; `{choice}` picks
 * where a legacy two-step code goes. Checked with the engine's command schemas (`INVALID_INPUT`).
 */
export function mfaRequest(payload: unknown): MfaRequest {
  if (typeof payload === "string" || typeof payload === "number") {
    return { command: "mfa", input: parse("mfa", COMMAND_SCHEMAS.mfa, { code: digits(payload) }) };
  }
  if (typeof payload === "object" && payload !== null && !Array.isArray(payload) && !Buffer.isBuffer(payload)) {
    // The node's account decides which account the code is for.
    const { account: _account, ...fields } = payload as Record<string, unknown>;
    if ("code" in fields) {
      return { command: "mfa", input: parse("mfa", COMMAND_SCHEMAS.mfa, { ...fields, code: digits(fields["code"]) }) };
    }
    if ("method" in fields) {
      return { command: "resend_mfa", input: parse("resend_mfa", COMMAND_SCHEMAS.resend_mfa, fields) };
    }
    if ("choice" in fields) return { command: "choice", input: parse("choice", COMMAND_SCHEMAS.choice, fields) };
  }
  throw new EngineError(
    "INVALID_INPUT",
    'msg.payload must be a code ("123456"), {method: "device"|"sms"|"voice", phone_number_id} or {choice}',
  );
}
