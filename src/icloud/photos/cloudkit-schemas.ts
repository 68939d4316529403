import { z } from "zod";

/**
 * zod schemas for the CloudKit web-services answers of `com.apple.photos.cloud` (icloud-protocol.md 3).
 * Objects are `.loose()`: Apple adds keys without notice, and the client only relies on the ones named here.
 */

export const ZoneIdSchema = z
  .object({
    zoneName: z.string().min(1),
    ownerRecordName: z.string().optional(),
    zoneType: z.string().optional(),
  })
  .loose();
export type ZoneId = z.infer<typeof ZoneIdSchema>;

/** `{value, type}`; the value's shape depends on `type` and is read by the accessors in `records.ts`. */
export const FieldSchema = z.object({ value: z.unknown(), type: z.string().optional() }).loose();
export type Field = z.infer<typeof FieldSchema>;

function isField(value: unknown): value is Field {
  if (typeof value !== "object" || value === null || Array.isArray(value) || !("value" in value)) return false;
  const type = (value as { type?: unknown }).type;
  return type === undefined || typeof type === "string";
}

/**
 * A record's `fields`: name → {@link FieldSchema}, checked in place. `z.record(z.string(), FieldSchema)`
 * would build a copy of every field object: listing a library, that copy of each page was the largest
 * short-lived allocation and raised peak RSS by about 10 MB (bench/README.md, photos.ts).
 */
const FieldsSchema = z.custom<Record<string, Field>>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value as Record<string, unknown>).every(isField),
  { message: "expected fields as {name: {value, type}}" },
);

/**
 * One record as CloudKit returns it. Tombstones in `changes/zone` carry only `recordName` and
 * `deleted: true`; per-record errors carry `serverErrorCode`/`reason` instead of fields.
 */
export const RecordSchema = z
  .object({
    recordName: z.string().min(1),
    recordType: z.string().optional(),
    fields: FieldsSchema.optional(),
    recordChangeTag: z.string().optional(),
    deleted: z.boolean().optional(),
    zoneID: ZoneIdSchema.optional(),
    created: z.object({ timestamp: z.number().optional() }).loose().optional(),
    modified: z.object({ timestamp: z.number().optional() }).loose().optional(),
    serverErrorCode: z.string().optional(),
    reason: z.string().optional(),
  })
  .loose();
export type CloudKitRecord = z.infer<typeof RecordSchema>;

/** `ASSETID` field value: where and how big one resource is. */
export const AssetIdValueSchema = z
  .object({
    fileChecksum: z.string().optional(),
    size: z.number().int().nonnegative(),
    wrappingKey: z.string().optional(),
    referenceChecksum: z.string().optional(),
    downloadURL: z.string().optional(),
  })
  .loose();
export type AssetIdValue = z.infer<typeof AssetIdValueSchema>;

/** `REFERENCE` field value (`CPLAsset.masterRef`). */
export const ReferenceValueSchema = z
  .object({ recordName: z.string().min(1), action: z.string().optional(), zoneID: ZoneIdSchema.optional() })
  .loose();

/** Inline error shape: a whole response (`ACCESS_DENIED`), a zone entry or a record. */
export const ServerErrorSchema = z
  .object({ serverErrorCode: z.string(), reason: z.string().optional(), uuid: z.string().optional() })
  .loose();
export type ServerError = z.infer<typeof ServerErrorSchema>;

const ZoneEntrySchema = z
  .object({
    zoneID: ZoneIdSchema,
    syncToken: z.string().optional(),
    deleted: z.boolean().optional(),
    serverErrorCode: z.string().optional(),
    reason: z.string().optional(),
  })
  .loose();
export type ZoneEntry = z.infer<typeof ZoneEntrySchema>;

/** `zones/list`; older recordings carry one top-level `syncToken` instead of per-zone tokens. */
export const ZonesListResponseSchema = z
  .object({ zones: z.array(ZoneEntrySchema), syncToken: z.string().optional(), moreComing: z.boolean().optional() })
  .loose();

/** `changes/database`: only the zones changed since the token (empty when nothing changed). */
export const DatabaseChangesResponseSchema = z
  .object({
    zones: z.array(ZoneEntrySchema).default([]),
    moreComing: z.boolean().default(false),
    syncToken: z.string().optional(),
  })
  .loose();

const ZoneChangesEntrySchema = ZoneEntrySchema.extend({
  moreComing: z.boolean().optional(),
  records: z.array(RecordSchema).optional(),
});
export type ZoneChangesEntry = z.infer<typeof ZoneChangesEntrySchema>;

/** `changes/zone`: one entry per requested zone, with records in change-log order (not paired). */
export const ZoneChangesResponseSchema = z.object({ zones: z.array(ZoneChangesEntrySchema) }).loose();

/** `records/query` and `records/lookup`. */
export const RecordsResponseSchema = z
  .object({
    records: z.array(RecordSchema).default([]),
    continuationMarker: z.string().optional(),
    syncToken: z.string().optional(),
  })
  .loose();

/** `internal/records/query/batch` (counts). */
export const BatchResponseSchema = z.object({ batch: z.array(RecordsResponseSchema) }).loose();
