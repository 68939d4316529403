import { z } from "zod";
import { type CallkitCall, type CallType, isMissed } from "./types.ts";

/**
 * Rows of `ZCALLRECORD` in macOS/iOS `CallHistory.storedata` (a Core Data SQLite store).
 * Every column but `Z_PK` may be missing in older schemas; the reader selects NULL in its place.
 */

/** Core Data's reference date, 2001-01-01T00:00:00Z, in Unix milliseconds. `ZDATE` counts seconds from it. */
export const CORE_DATA_EPOCH_MS = Date.UTC(2001, 0, 1);

export function fromCoreDataSeconds(seconds: number): Date {
  return new Date(CORE_DATA_EPOCH_MS + seconds * 1000);
}

export function toCoreDataSeconds(date: Date): number {
  return (date.getTime() - CORE_DATA_EPOCH_MS) / 1000;
}

/** The columns the reader asks for, in the order it selects them. */
export const CALL_RECORD_COLUMNS = [
  "ZUNIQUE_ID",
  "ZADDRESS",
  "ZNAME",
  "ZDATE",
  "ZDURATION",
  "ZORIGINATED",
  "ZANSWERED",
  "ZCALLTYPE",
  "ZSERVICE_PROVIDER",
  "ZISO_COUNTRY_CODE",
] as const;

/**
 * `ZCALLTYPE` values (forensic write-ups of CallHistory.storedata, e.g. the macOS forensics knowledge
 * base at kb-macfor-io.pages.dev "FaceTime": "phone calls (1) from FaceTime video (8) and FaceTime
 * audio (16)"). Other values (third-party CallKit apps, newer OS versions) map to `other`.
 */
const CALL_TYPE_CODES: Readonly<Record<number, CallType>> = { 1: "phone", 8: "facetime_video", 16: "facetime_audio" };

/** What `service_provider` says when the column is missing or empty. */
const DEFAULT_PROVIDERS: Readonly<Record<CallType, string>> = {
  phone: "com.apple.Telephony",
  facetime_audio: "com.apple.FaceTime",
  facetime_video: "com.apple.FaceTime",
  other: "",
};

const text = z.union([z.string(), z.instanceof(Uint8Array).transform((bytes) => Buffer.from(bytes).toString("utf8"))]);
const flag = z.union([z.number(), z.bigint()]).transform((value) => Number(value) !== 0);

export const CallRecordRowSchema = z.object({
  Z_PK: z.union([z.number().int(), z.bigint().transform(Number)]),
  ZUNIQUE_ID: text.nullable(),
  ZADDRESS: text.nullable(),
  ZNAME: text.nullable(),
  ZDATE: z.number().finite(),
  ZDURATION: z.union([z.number(), z.bigint().transform(Number)]).nullable(),
  ZORIGINATED: flag.nullable(),
  ZANSWERED: flag.nullable(),
  ZCALLTYPE: z.union([z.number(), z.bigint().transform(Number)]).nullable(),
  ZSERVICE_PROVIDER: text.nullable(),
  ZISO_COUNTRY_CODE: text.nullable(),
});
export type CallRecordRow = z.infer<typeof CallRecordRowSchema>;

export function callTypeFromRow(code: number | null, serviceProvider: string | null): CallType {
  if (code !== null) return CALL_TYPE_CODES[code] ?? "other";
  // Schemas without ZCALLTYPE: only the Telephony provider says for sure what the call was.
  return serviceProvider === "com.apple.Telephony" ? "phone" : "other";
}

export function callFromRow(row: CallRecordRow): CallkitCall {
  const direction = row.ZORIGINATED === true ? "outgoing" : "incoming";
  const answered = row.ZANSWERED === true;
  const callType = callTypeFromRow(row.ZCALLTYPE, row.ZSERVICE_PROVIDER);
  return {
    id: row.ZUNIQUE_ID || `zpk-${row.Z_PK}`,
    data_type: "callkit.call",
    address: row.ZADDRESS ?? "",
    name: row.ZNAME || null,
    date: fromCoreDataSeconds(row.ZDATE).toISOString(),
    duration: Math.max(0, row.ZDURATION ?? 0),
    direction,
    answered,
    missed: isMissed(direction, answered),
    call_type: callType,
    service_provider: row.ZSERVICE_PROVIDER || DEFAULT_PROVIDERS[callType],
    iso_country_code: row.ZISO_COUNTRY_CODE || null,
  };
}
