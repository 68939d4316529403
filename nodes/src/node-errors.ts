import { EngineError, type ErrorCode, isEngineError } from "icloud2mqtt/engine";

/**
 * The one place engine errors become what Node-RED shows: the `Error` a node hands to `done(err)`
 * (Catch nodes get its `code` as `msg.error.code`) and the admin API's HTTP answers to the editor.
 */

/** Every engine error code has an admin API status (a new code fails to compile until it gets one). */
const HTTP_STATUS: Record<ErrorCode, number> = {
  CODE_INVALID: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  NOT_SIGNED_IN: 409,
  CODE_REQUIRED: 409,
  CHOICE_REQUIRED: 409,
  SERVICE_NOT_AVAILABLE: 409,
  CALLKIT_UNINITIALISED: 409,
  SIGN_IN_BUSY: 409,
  RATE_LIMITED: 429,
  // Not 401: the editor answers a 401 by asking the Node-RED user to log in again.
  ACCOUNT_LOCKED: 403,
  INVALID_CREDENTIALS: 403,
  WEB_ACCESS_DISABLED: 403,
  SECURITY_KEY_REQUIRED: 403,
  WRONG_REGION: 403,
  NETWORK: 502,
  UNEXPECTED_RESPONSE: 502,
  DOWNLOAD_FAILED: 502,
  SERVICE_UNAVAILABLE: 503,
  SESSION_EXPIRED: 503,
  CONFIG_INVALID: 500,
  STORE_FAILED: 500,
  BRIDGE_OFFLINE: 503,
  BRIDGE_TIMEOUT: 504,
};

/** Texts that say more to a Node-RED user than the engine's message. */
const TEXT: Partial<Record<ErrorCode, string>> = {
  CODE_INVALID: "the verification code was not accepted: check it and try again, or request a new code",
  WEB_ACCESS_DISABLED:
    'Apple refuses web access to this account: turn on "Access iCloud Data on the Web" and turn off Advanced Data Protection',
};

/** An error for `done(err)` / `node.error(err)`: engine code in `code` (Catch nodes: `msg.error.code`). */
export interface NodeError extends Error {
  code: ErrorCode | "UNEXPECTED";
  retryable: boolean;
  /** Seconds to wait, when Apple or the engine said so. */
  retryAfter?: number;
}

function retryHint(error: EngineError): string {
  const seconds = error.retryAfter;
  return seconds === undefined ? "" : ` (retry after ${Math.max(1, Math.ceil(seconds))} s)`;
}

/**
 * Any failure as a `NodeError`. The message is the engine's (never holding secrets) plus a retry hint;
 * other errors keep their message under `UNEXPECTED`. The cause is not kept: Catch nodes copy it
 * into messages, and an HTTP or MQTT cause has no business in a flow.
 */
export function toNodeError(error: unknown): NodeError {
  if (isEngineError(error)) {
    const result = new Error(`${TEXT[error.code] ?? error.message}${retryHint(error)}`) as NodeError;
    result.code = error.code;
    result.retryable = error.retryable;
    if (error.retryAfter !== undefined) result.retryAfter = error.retryAfter;
    return result;
  }
  const result = new Error(error instanceof Error ? error.message : String(error)) as NodeError;
  result.code = "UNEXPECTED";
  result.retryable = false;
  return result;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: { error: string; code: string; retry_after?: number };
}

/** The admin API's answer to a failed command. */
export function httpReply(error: unknown): HttpReply {
  if (!(error instanceof EngineError)) {
    return { status: 500, headers: {}, body: { error: "internal error", code: "UNEXPECTED" } };
  }
  const status = HTTP_STATUS[error.code];
  const headers: Record<string, string> = {};
  const retry = error.retryAfter;
  const body: HttpReply["body"] = {
    error: status === 500 ? "internal error" : (TEXT[error.code] ?? error.message),
    code: error.code,
  };
  if (retry !== undefined) {
    body.retry_after = Math.max(1, Math.ceil(retry));
    if (status === 429 || status === 503) headers["retry-after"] = String(body.retry_after);
  }
  return { status, headers, body };
}
