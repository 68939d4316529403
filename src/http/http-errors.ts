import { EngineError, type ErrorCode } from "../errors.ts";

/** An error that already knows its HTTP status; its message is safe to show to clients. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export interface ErrorReply {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** Every engine error code has a status (the type makes a new code fail to compile until it gets one). */
const ENGINE_STATUS: Record<ErrorCode, number> = {
  CODE_INVALID: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  INVALID_STATE: 412,
  NOT_SIGNED_IN: 412,
  CODE_REQUIRED: 412,
  CHOICE_REQUIRED: 412,
  SERVICE_NOT_AVAILABLE: 412,
  CALLKIT_UNINITIALISED: 412,
  SIGN_IN_BUSY: 409,
  RATE_LIMITED: 429,
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

/** Fixed texts where the engine's message could be unhelpful to an end user. */
const ENGINE_TEXT: Partial<Record<ErrorCode, string>> = {
  CODE_INVALID: "The verification code was not accepted. Check it and try again, or request a new code.",
};

/**
 * The one place errors become HTTP responses. HttpErrors keep their status and message;
 * EngineErrors are mapped by code; anything else is a 500 with a generic text, so stack
 * traces and internal details never reach a client.
 */
export function errorReply(error: unknown): ErrorReply {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers };
  if (error instanceof EngineError) {
    const status = ENGINE_STATUS[error.code];
    const headers: Record<string, string> = {};
    if (status === 429 || status === 503) {
      const retry = error.retryAfter;
      if (retry !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(retry)));
    }
    const message = ENGINE_TEXT[error.code] ?? (status === 500 ? "Internal server error" : error.message);
    return { status, message, headers };
  }
  return { status: 500, message: "Internal server error", headers: {} };
}
