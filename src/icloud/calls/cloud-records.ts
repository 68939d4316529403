import { z } from "zod";
import { type CallkitCall, type CallType, isMissed } from "./types.ts";

/**
 * Wire schemas of the (invented, simulator-only) call-history service, which follows CloudKit
 * web-service conventions: records `{recordName, recordType, fields{name:{value,type}}, ...}`,
 * inline `serverErrorCode`s. See src/simulator/calls/README.md.
 */

const field = <T extends z.ZodType>(value: T) => z.object({ value, type: z.string().optional() }).loose();
const flag = field(z.union([z.number(), z.boolean()])).transform((f) => f.value === true || f.value === 1);

/** `callType` values; an INT64 variant (ZCALLTYPE codes) is accepted too. Anything else is `other`. */
const WIRE_CALL_TYPES: Readonly<Record<string, CallType>> = {
  phone: "phone",
  facetimeAudio: "facetime_audio",
  facetimeVideo: "facetime_video",
  thirdParty: "other",
  "1": "phone",
  "8": "facetime_video",
  "16": "facetime_audio",
};

export const CallRecordFieldsSchema = z
  .object({
    uniqueId: field(z.string().min(1)).optional(),
    address: field(z.string()),
    name: field(z.string().nullable()).optional(),
    /** TIMESTAMP, Unix ms. */
    date: field(z.number().finite()),
    /** DOUBLE, seconds. */
    duration: field(z.number().nonnegative()).optional(),
    originated: flag,
    answered: flag,
    callType: field(z.union([z.string(), z.number()])).optional(),
    serviceProvider: field(z.string()).optional(),
    isoCountryCode: field(z.string().nullable()).optional(),
  })
  .loose();

export const RecordSchema = z
  .object({
    recordName: z.string().min(1),
    recordType: z.string().optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    deleted: z.boolean().optional(),
  })
  .loose();
export type WireRecord = z.infer<typeof RecordSchema>;

export const QueryResponseSchema = z
  .object({ records: z.array(RecordSchema).default([]), syncToken: z.string().optional() })
  .loose();

const ZoneChangesSchema = z
  .object({
    syncToken: z.string().optional(),
    moreComing: z.boolean().default(false),
    records: z.array(RecordSchema).default([]),
    serverErrorCode: z.string().optional(),
    reason: z.string().optional(),
    retryAfter: z.number().optional(),
  })
  .loose();

export const ChangesResponseSchema = z.object({ zones: z.array(ZoneChangesSchema).min(1) }).loose();

/**
 * The call a record describes; undefined for tombstones and other record types. Throws a ZodError
 * when a `CallRecord` lacks the fields every call has.
 */
export function callFromRecord(record: WireRecord): CallkitCall | undefined {
  if (record.deleted === true || record.recordType !== "CallRecord" || record.fields === undefined) return undefined;
  const f = CallRecordFieldsSchema.parse(record.fields);
  const direction = f.originated ? "outgoing" : "incoming";
  const callType = WIRE_CALL_TYPES[String(f.callType?.value)] ?? "other";
  return {
    id: f.uniqueId?.value ?? record.recordName,
    data_type: "callkit.call",
    address: f.address.value,
    name: f.name?.value || null,
    date: new Date(f.date.value).toISOString(),
    duration: f.duration?.value ?? 0,
    direction,
    answered: f.answered,
    missed: isMissed(direction, f.answered),
    call_type: callType,
    service_provider: f.serviceProvider?.value ?? "",
    iso_country_code: f.isoCountryCode?.value || null,
  };
}
