import { z } from "zod";
import { EngineError, type ErrorCode } from "../../errors.ts";
import { RETRYABLE_CODES } from "./server-codes.ts";

/** A response- or zone-level CloudKit error, as every container answers it. */
export const ServerErrorSchema = z
  .object({ serverErrorCode: z.string(), reason: z.string().optional(), retryAfter: z.number().optional() })
  .loose();
export type ServerError = z.infer<typeof ServerErrorSchema>;

/** How one service words CloudKit's errors for the user, and what a missing zone means for it. */
export interface ServerErrorWording {
  /** The service in messages: "Notes", "call-history service". */
  service: string;
  /** What `ACCESS_DENIED` means (web access off, Advanced Data Protection on), with the fix. */
  accessDenied: string;
  /** The error for `ZONE_NOT_FOUND` (the service not set up for this account). */
  zoneNotFound: { code: ErrorCode; message: string };
}

/**
 * Maps a CloudKit `serverErrorCode` to the bridge's error: a missing zone as the service says,
 * throttling as retryable `RATE_LIMITED`, `ACCESS_DENIED` as `WEB_ACCESS_DISABLED`, a refused session
 * as `SESSION_EXPIRED` (the session re-validates), anything else as `UNEXPECTED_RESPONSE`.
 */
export function cloudKitError(
  error: { serverErrorCode?: string; reason?: string; retryAfter?: number },
  wording: ServerErrorWording,
  status?: number,
): EngineError {
  const code = error.serverErrorCode ?? "UNKNOWN";
  const info: Record<string, unknown> = { server_error_code: code };
  if (status !== undefined) info["status"] = status;
  if (error.retryAfter !== undefined) info["retry_after"] = error.retryAfter;
  if (code === "ZONE_NOT_FOUND")
    return new EngineError(wording.zoneNotFound.code, wording.zoneNotFound.message, { info });
  if (RETRYABLE_CODES.has(code))
    return new EngineError("RATE_LIMITED", `${wording.service} asked to retry later (${code})`, { info });
  if (code === "ACCESS_DENIED") return new EngineError("WEB_ACCESS_DISABLED", wording.accessDenied, { info });
  if (code === "AUTHENTICATION_FAILED" || code === "AUTHENTICATION_REQUIRED")
    return new EngineError("SESSION_EXPIRED", `${wording.service} refused the session (${code})`, { info });
  const detail = error.reason ? `: ${error.reason}` : "";
  return new EngineError("UNEXPECTED_RESPONSE", `${wording.service} error ${code}${detail}`, { info });
}
