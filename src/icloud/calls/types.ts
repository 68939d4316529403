import { z } from "zod";

/** How a call was made; `other` covers third-party CallKit apps and values we do not know. */
export const CALL_TYPES = ["phone", "facetime_audio", "facetime_video", "other"] as const;
export type CallType = (typeof CALL_TYPES)[number];

/**
 * One call as the bridge publishes it (`callkit.calls` items), in ricloud's vocabulary:
 * snake_case keys, a stable `id` for de-duplication, ISO 8601 dates.
 */
export const CallkitCallSchema = z.object({
  /** Stable identifier (the call record's unique id); de-duplicates across polls. */
  id: z.string().min(1),
  data_type: z.literal("callkit.call"),
  /** Phone number, e-mail address or app handle of the other party. Personal data: log at debug only. */
  address: z.string(),
  /** Contact name cached on the device, when it had one. */
  name: z.string().nullable(),
  /** Start of the call, ISO 8601 (UTC). */
  date: z.iso.datetime({ offset: true }),
  /** Length of the call in seconds (0 for calls that were not answered). */
  duration: z.number().nonnegative(),
  direction: z.enum(["incoming", "outgoing"]),
  answered: z.boolean(),
  /** Incoming and not answered. */
  missed: z.boolean(),
  call_type: z.enum(CALL_TYPES),
  /** e.g. `com.apple.Telephony`, `com.apple.FaceTime`, or a CallKit app's bundle id. */
  service_provider: z.string(),
  /** ISO 3166 country code of the address, lower or upper case as the source gave it. */
  iso_country_code: z.string().nullable(),
});
export type CallkitCall = z.infer<typeof CallkitCallSchema>;

export interface CallListOptions {
  /** Only calls that started strictly after this instant. */
  since?: Date;
  /** At most this many calls (default {@link DEFAULT_CALL_LIMIT}). */
  limit?: number;
}

export interface NewCallsResult {
  /** Calls not returned before for this cursor, oldest first. */
  calls: CallkitCall[];
  /** Opaque; persist it and pass it to the next `newCalls` call. */
  cursor: string;
}

/** Where call history comes from: the (simulated) call-history web service, or a macOS database. */
export type CallHistorySourceKind = "cloud" | "macos";

/**
 * The one interface the engine sees for call history.
 *
 * Cursor contract: `newCalls(undefined)` returns the most recent history, bounded to the newest
 * {@link INITIAL_HISTORY_LIMIT} calls, plus a cursor. `newCalls(cursor)` returns only calls that no
 * earlier `newCalls` result that produced or preceded `cursor` contained, so a restart with the
 * persisted cursor never repeats a call. When `newCalls` throws, nothing was consumed: keep the old cursor.
 */
export interface CallsSource {
  readonly kind: CallHistorySourceKind;
  /** Call history, newest first. */
  calls(options?: CallListOptions): Promise<CallkitCall[]>;
  newCalls(cursor: string | undefined): Promise<NewCallsResult>;
  /** Releases files or handles; a no-op for sources that hold none. */
  close?(): void;
}

export const DEFAULT_CALL_LIMIT = 50;
/** How many calls a first `newCalls` without a cursor returns (the newest ones). */
export const INITIAL_HISTORY_LIMIT = 50;

/** `missed` is derived, never stored: an incoming call that was not answered. */
export function isMissed(direction: CallkitCall["direction"], answered: boolean): boolean {
  return direction === "incoming" && !answered;
}
