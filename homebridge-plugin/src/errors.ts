import { EngineError, ERROR_CODES, type ErrorCode, type SessionView, toEngineError } from "icloud2mqtt/engine";

/**
 * The one place the plugin maps engine errors (`EngineError` codes) to what its users see: a
 * Homebridge log line, a HAP status for the Home app, and a message for the settings UI.
 */

/**
 * One Homebridge log line for anything the engine threw: its code and message, and whether the
 * engine retries by itself or the user has to act (a wrong password, a two-factor code, ...).
 */
export function describeError(error: unknown): string {
  const e = toEngineError(error);
  const retry = e.retryAfter === undefined ? "retrying" : `retrying in ${e.retryAfter} s`;
  return `${e.code}: ${e.message} (${e.retryable ? retry : "needs your attention"})`;
}

/** HAP status codes (HAP-NodeJS `HAPStatus`; the numbers are HomeKit's and the same in HAP-NodeJS 0.x and 2.x). */
export const HAP_STATUS = {
  SERVICE_COMMUNICATION_FAILURE: -70402,
  RESOURCE_BUSY: -70403,
  RESOURCE_DOES_NOT_EXIST: -70409,
  INVALID_VALUE_IN_REQUEST: -70410,
  NOT_ALLOWED_IN_CURRENT_STATE: -70412,
} as const;
export type HapStatusCode = (typeof HAP_STATUS)[keyof typeof HAP_STATUS];

const HAP_BY_CODE: Partial<Record<ErrorCode, HapStatusCode>> = {
  RATE_LIMITED: HAP_STATUS.RESOURCE_BUSY,
  SIGN_IN_BUSY: HAP_STATUS.RESOURCE_BUSY,
  INVALID_STATE: HAP_STATUS.RESOURCE_BUSY,
  NOT_FOUND: HAP_STATUS.RESOURCE_DOES_NOT_EXIST,
  INVALID_INPUT: HAP_STATUS.INVALID_VALUE_IN_REQUEST,
  SERVICE_NOT_AVAILABLE: HAP_STATUS.NOT_ALLOWED_IN_CURRENT_STATE,
};

/**
 * The HAP status a failed command answers the Home app with ("No Response" for everything that is
 * about reaching iCloud or the bridge, including a session that needs a code).
 */
export function hapStatus(error: unknown): HapStatusCode {
  return HAP_BY_CODE[toEngineError(error).code] ?? HAP_STATUS.SERVICE_COMMUNICATION_FAILURE;
}

/** What the settings UI shows for a failed request: a sentence, the code, and when to retry. */
export interface UiErrorData {
  code: ErrorCode;
  message: string;
  retry_after?: number;
}

const UI_TEXT: Partial<Record<ErrorCode, string>> = {
  CODE_INVALID: "That code was not accepted. Check it and try again.",
  INVALID_CREDENTIALS: "Apple rejected the Apple ID or password.",
  ACCOUNT_LOCKED:
    "This Apple Account is locked for security reasons. Unlock it at iforgot.apple.com, then sign in again.",
  WEB_ACCESS_DISABLED:
    'iCloud web access is off. On a trusted device turn on "Access iCloud Data on the Web", then sign in again.',
  SECURITY_KEY_REQUIRED: "This account uses security keys for two-factor authentication, which cannot be used here.",
  WRONG_REGION: "This account belongs to the other iCloud region: change the account's region.",
  SIGN_IN_BUSY: "Another process is signing in to this Apple Account right now. Finish or stop that sign-in first.",
  NOT_SIGNED_IN: "The iCloud session is not active: sign in again.",
  BRIDGE_OFFLINE: "The icloud2mqtt bridge cannot be reached over MQTT.",
  BRIDGE_TIMEOUT: "The icloud2mqtt bridge did not answer in time.",
};

export function uiError(error: unknown): UiErrorData {
  const e: EngineError = toEngineError(error);
  const retry = e.retryAfter;
  let message = UI_TEXT[e.code] ?? e.message;
  if (e.code === "RATE_LIMITED" || e.code === "SERVICE_UNAVAILABLE")
    message = `Apple asks to wait${retry === undefined ? "" : ` ${retry} s`} before trying again.`;
  return { code: e.code, message, ...(retry === undefined ? {} : { retry_after: retry }) };
}

/** Session errors that only say what the sign-in waits for (the user answers them in the form). */
const AWAITING = new Set(["code-required", "code-invalid", "choice-required"]);

/**
 * The error a sign-in step's outcome carries, if it failed: the engine answers `mfa`, `resend_mfa`
 * and `choice` with the session's state, whose `error` (`rate-limited`, `invalid-credentials`, ...)
 * is turned back into the engine's coded error here.
 */
export function sessionFailure(session: SessionView): EngineError | undefined {
  const error = session.error;
  if (error === null || AWAITING.has(error)) return undefined;
  const code = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].session === error);
  const retry = session.error_info?.retry_after;
  return new EngineError(code ?? "UNEXPECTED_RESPONSE", error, {
    info: retry === undefined ? {} : { retry_after: retry },
  });
}
