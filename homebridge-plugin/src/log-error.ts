import { toEngineError } from "icloud2mqtt/engine";

/**
 * One Homebridge log line for anything the engine threw: its code and message, and whether the
 * engine retries by itself or the user has to act (a wrong password, a two-factor code, ...).
 */
export function describeError(error: unknown): string {
  const e = toEngineError(error);
  const retry = e.retryAfter === undefined ? "retrying" : `retrying in ${e.retryAfter} s`;
  return `${e.code}: ${e.message} (${e.retryable ? retry : "needs your attention"})`;
}
