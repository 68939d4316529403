/**
 * Coded errors shared by every layer. Each code says whether an automatic retry is allowed;
 * front-ends map codes to their own wire format once (MQTT response, HTTP status, ...).
 */
export const ERROR_CODES = {
  // Sign-in outcomes (ricloud session errors)
  CODE_REQUIRED: { session: "code-required", retryable: false },
  CHOICE_REQUIRED: { session: "choice-required", retryable: false },
  CODE_INVALID: { session: "code-invalid", retryable: false },
  INVALID_CREDENTIALS: { session: "invalid-credentials", retryable: false },
  ACCOUNT_LOCKED: { session: "account-locked", retryable: false },
  WEB_ACCESS_DISABLED: { session: "web-access-disabled", retryable: false },
  RATE_LIMITED: { session: "rate-limited", retryable: true },
  SERVICE_UNAVAILABLE: { session: "service-unavailable", retryable: true },
  SECURITY_KEY_REQUIRED: { session: "security-key-required", retryable: false },
  /** Another process holds the account's sign-in lock (`info.holder`: pid, host, command, since). */
  SIGN_IN_BUSY: { session: "sign-in-busy", retryable: true },
  WRONG_REGION: { session: "wrong-region", retryable: false },
  // Session and transport
  SESSION_EXPIRED: { session: "session-expired", retryable: true },
  NOT_SIGNED_IN: { session: "not-signed-in", retryable: false },
  NETWORK: { session: "service-unavailable", retryable: true },
  UNEXPECTED_RESPONSE: { session: "service-unavailable", retryable: true },
  INVALID_STATE: { session: "invalid-state", retryable: false },
  INVALID_INPUT: { session: "invalid-input", retryable: false },
  // Services
  SERVICE_NOT_AVAILABLE: { session: "service-not-available", retryable: false },
  CALLKIT_UNINITIALISED: { session: "callkit-uninitialised", retryable: false },
  NOT_FOUND: { session: "not-found", retryable: false },
  DOWNLOAD_FAILED: { session: "download-failed", retryable: true },
  CONFIG_INVALID: { session: "config-invalid", retryable: false },
  STORE_FAILED: { session: "store-failed", retryable: true },
  // A remote engine (src/remote) and the icloud2mqtt it talks to over MQTT
  /** No connection to the broker, or the bridge reports itself offline: the command was not sent. */
  BRIDGE_OFFLINE: { session: "bridge-offline", retryable: true },
  /** The bridge did not answer in time; the command may still run. */
  BRIDGE_TIMEOUT: { session: "bridge-timeout", retryable: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type SessionErrorName = (typeof ERROR_CODES)[ErrorCode]["session"];

export interface EngineErrorOptions {
  cause?: unknown;
  /** Extra machine-readable detail, e.g. `choices` or `retry_after`. Never put secrets here. */
  info?: Record<string, unknown>;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
}

export class EngineError extends Error {
  override readonly name = "EngineError";
  readonly code: ErrorCode;
  readonly info: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.info = options.info ?? {};
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
  }

  /** The ricloud-style session error name (`code-required`, `account-locked`, ...). */
  get sessionError(): SessionErrorName {
    return ERROR_CODES[this.code].session;
  }

  /** Seconds to wait before retrying, when the service said so. */
  get retryAfter(): number | undefined {
    const value = this.info["retry_after"];
    return typeof value === "number" ? value : undefined;
  }

  toJSON(): { code: ErrorCode; message: string; info: Record<string, unknown> } {
    return { code: this.code, message: this.message, info: this.info };
  }
}

export function isEngineError(error: unknown, code?: ErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a EngineError, keeping the original as `cause`. */
export function toEngineError(error: unknown, fallback: ErrorCode = "UNEXPECTED_RESPONSE"): EngineError {
  if (error instanceof EngineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(fallback, message, { cause: error });
}
