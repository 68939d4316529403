import { z } from "zod";

/**
 * CloudKit records of the Notes container (`com.apple.notes`, zone `Notes`) as timlaing/pyicloud
 * reads them (`pyicloud/services/notes/service.py`, `models/constants.py`, tests/fixtures/notes):
 * `Note` and `PasswordProtectedNote` with `TitleEncrypted`, `SnippetEncrypted`, `TextDataEncrypted`,
 * `ModificationDate`, `Deleted`, `Folder`/`Folders` and `Attachments`; `Folder` with `TitleEncrypted`;
 * `Attachment` with `AttachmentUTI`, `Filename`, `Size` and `PrimaryAsset.downloadURL`; tombstones
 * `{recordName, deleted: true}`. "Encrypted" values come as base64 `ENCRYPTED_BYTES` (or plain `STRING`).
 */

const FieldSchema = z.object({ value: z.unknown(), type: z.string().optional() }).loose();
type Fields = Record<string, unknown>;

export const RecordSchema = z
  .object({
    recordName: z.string().min(1),
    recordType: z.string().optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    deleted: z.boolean().optional(),
    created: z.object({ timestamp: z.number() }).loose().optional(),
    modified: z.object({ timestamp: z.number() }).loose().optional(),
    serverErrorCode: z.string().optional(),
  })
  .loose();
export type WireRecord = z.infer<typeof RecordSchema>;

const ZoneChangesSchema = z
  .object({
    syncToken: z.string().optional(),
    moreComing: z.boolean().default(false),
    records: z.array(z.unknown()).default([]),
    serverErrorCode: z.string().optional(),
    reason: z.string().optional(),
    retryAfter: z.number().optional(),
  })
  .loose();
export const ChangesResponseSchema = z.object({ zones: z.array(ZoneChangesSchema).min(1) }).loose();
export const LookupResponseSchema = z.object({ records: z.array(z.unknown()).default([]) }).loose();

function field(fields: Fields, name: string): { value: unknown; type?: string | undefined } | undefined {
  const parsed = FieldSchema.safeParse(fields[name]);
  return parsed.success ? parsed.data : undefined;
}

/** A text field: `STRING` as is, (`ENCRYPTED_`)`BYTES` from base64 UTF-8. */
export function textField(fields: Fields, name: string): string | null {
  const f = field(fields, name);
  if (f === undefined || typeof f.value !== "string") return null;
  if (f.type === "STRING" || f.type === undefined) return f.value;
  return Buffer.from(f.value, "base64").toString("utf8");
}

export function numberField(fields: Fields, name: string): number | null {
  const value = field(fields, name)?.value;
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

const ReferenceSchema = z.object({ recordName: z.string().min(1) }).loose();

export function referenceField(fields: Fields, name: string): string | null {
  const parsed = ReferenceSchema.safeParse(field(fields, name)?.value);
  return parsed.success ? parsed.data.recordName : null;
}

export function referenceListField(fields: Fields, name: string): string[] {
  const value = field(fields, name)?.value;
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const parsed = ReferenceSchema.safeParse(item);
    return parsed.success ? [parsed.data.recordName] : [];
  });
}

const AssetSchema = z.object({ downloadURL: z.string().min(1), size: z.number().optional() }).loose();

export function assetField(fields: Fields, name: string): { downloadURL: string; size?: number | undefined } | null {
  const parsed = AssetSchema.safeParse(field(fields, name)?.value);
  return parsed.success ? parsed.data : null;
}
