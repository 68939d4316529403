import { z } from "zod";
import {
  COMMAND_NAMES,
  COMMAND_SCHEMAS,
  type CommandInput,
  type CommandName,
  isCommandName,
} from "../engine/commands.ts";
import { EngineError, type ErrorCode, toEngineError } from "../errors.ts";

export type Transaction = string | number;

export interface OkResponse {
  status: "ok";
  data: unknown;
  transaction?: Transaction;
}

export interface ErrorResponse {
  status: "error";
  data: { code: ErrorCode; retryable: boolean; info: Record<string, unknown> };
  error: string;
  transaction?: Transaction;
}

const TransactionSchema = z.union([z.string().max(200), z.number()]);

/**
 * `<base>/bridge/response/<command>` as read back (remote engine). `code` stays a string here: a newer
 * bridge may send codes this version does not know.
 */
export const ResponseSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), data: z.unknown(), transaction: TransactionSchema.optional() }),
  z.object({
    status: z.literal("error"),
    data: z.object({ code: z.string(), retryable: z.boolean(), info: z.record(z.string(), z.unknown()) }),
    error: z.string(),
    transaction: TransactionSchema.optional(),
  }),
]);

export type ParsedRequest =
  | { ok: true; command: CommandName; input: CommandInput<CommandName>; transaction?: Transaction }
  | { ok: false; error: EngineError; transaction?: Transaction };

/** Requests are small JSON objects; a larger payload is refused before it is decoded. */
export const MAX_REQUEST_BYTES = 16 * 1024;

const BodySchema = z.record(z.string(), z.unknown());

function invalid(message: string, transaction?: Transaction): ParsedRequest {
  return { ok: false, error: new EngineError("INVALID_INPUT", message), ...withTransaction(transaction) };
}

function withTransaction(transaction: Transaction | undefined): { transaction?: Transaction } {
  return transaction === undefined ? {} : { transaction };
}

/** `code: code must be exactly six digits; device: Invalid input: expected string, received undefined`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

/**
 * Parses `<base>/bridge/request/<command>`. The payload is a JSON object (`transaction` is taken
 * out and echoed), or empty (= `{}`), or, for `mfa` only, bare digits (= `{"code": "<digits>"}`).
 * The rest must satisfy the command's schema in COMMAND_SCHEMAS. Messages never quote the payload.
 */
export function parseRequest(command: string, payload: Buffer): ParsedRequest {
  const text = payload.toString("utf8").trim();
  let body: Record<string, unknown>;
  if (command === "mfa" && /^\d+$/.test(text)) {
    body = { code: text };
  } else if (text === "") {
    body = {};
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return invalid(`invalid JSON in the '${command}' request payload`);
    }
    const parsed = BodySchema.safeParse(json);
    if (!parsed.success) return invalid(`the '${command}' request payload must be a JSON object`);
    body = parsed.data;
  }

  const { transaction: rawTransaction, ...rest } = body;
  let transaction: Transaction | undefined;
  if (rawTransaction !== undefined) {
    const parsed = TransactionSchema.safeParse(rawTransaction);
    if (!parsed.success) return invalid("transaction: must be a string or a number");
    transaction = parsed.data;
  }
  if (!isCommandName(command)) {
    return invalid(`unknown command '${command}' (known: ${COMMAND_NAMES.join(", ")})`, transaction);
  }
  const result = COMMAND_SCHEMAS[command].safeParse(rest);
  if (!result.success) return invalid(`invalid '${command}' request: ${describeIssues(result.error)}`, transaction);
  return { ok: true, command, input: result.data, ...withTransaction(transaction) };
}

/** The answer to a request published with the retain flag: never executed (it would run again on every reconnect). */
export function retainedRequestResponse(command: string, payload: Buffer): ErrorResponse {
  const transaction = payload.length <= MAX_REQUEST_BYTES ? parseRequest(command, payload).transaction : undefined;
  return errorResponse(
    new EngineError(
      "INVALID_INPUT",
      `the '${command}' request was published with the retain flag and is not executed (a retained request would run again on every reconnect); it was removed from the broker: publish it without retain`,
    ),
    transaction,
  );
}

/** The answer to a request whose payload exceeds MAX_REQUEST_BYTES (not decoded). */
export function oversizedRequestResponse(command: string, size: number): ErrorResponse {
  return errorResponse(
    new EngineError(
      "INVALID_INPUT",
      `the '${command}' request payload has ${size} bytes; requests may have at most ${MAX_REQUEST_BYTES}`,
    ),
  );
}

export function okResponse(data: unknown, transaction?: Transaction): OkResponse {
  return { status: "ok", data: data ?? {}, ...withTransaction(transaction) };
}

/** The one mapping from any error to the MQTT error response. */
export function errorResponse(error: unknown, transaction?: Transaction): ErrorResponse {
  const bridgeError = toEngineError(error);
  return {
    status: "error",
    data: { code: bridgeError.code, retryable: bridgeError.retryable, info: bridgeError.info },
    error: bridgeError.message,
    ...withTransaction(transaction),
  };
}

/** Values in a request that must never be echoed (`code`, `passcode`). */
export function requestSecrets(input: unknown): string[] {
  if (typeof input !== "object" || input === null) return [];
  const secrets: string[] = [];
  for (const key of ["code", "passcode"]) {
    const value: unknown = Reflect.get(input, key);
    if (typeof value === "string" && value.length >= 4) secrets.push(value);
  }
  return secrets;
}
