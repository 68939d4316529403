import { assetField, numberField, referenceField, referenceListField, textField, type WireRecord } from "./wire.ts";

export interface NoteRecord {
  kind: "note";
  recordName: string;
  locked: boolean;
  title: string;
  folderId: string | null;
  created: number | null;
  modified: number | null;
  /** In Recently Deleted. */
  deleted: boolean;
  attachmentIds: string[];
  /** `TextDataEncrypted` as sent (base64), when it came. */
  body: string | null;
}

export interface FolderRecord {
  kind: "folder";
  recordName: string;
  title: string;
}

export interface AttachmentRecord {
  kind: "attachment";
  recordName: string;
  uti: string | null;
  filename: string | null;
  size: number | null;
  /** The byte size of the asset behind `downloadUrl` (CloudKit's `PrimaryAsset.size`). */
  assetSize: number | null;
  downloadUrl: string | null;
}

export type NotesRecord =
  | NoteRecord
  | FolderRecord
  | AttachmentRecord
  | { kind: "tombstone"; recordName: string }
  | { kind: "other"; recordName: string };

/** What a record of the Notes zone is. */
export function readRecord(record: WireRecord): NotesRecord {
  const { recordName } = record;
  if (record.deleted === true && record.fields === undefined) return { kind: "tombstone", recordName };
  const fields = record.fields ?? {};
  const type = (record.recordType ?? "").toLowerCase();
  if (type === "note" || type === "passwordprotectednote") {
    return {
      kind: "note",
      recordName,
      locked: type === "passwordprotectednote",
      title: textField(fields, "TitleEncrypted") ?? "",
      folderId: referenceField(fields, "Folder") ?? referenceListField(fields, "Folders")[0] ?? null,
      created: numberField(fields, "CreationDate") ?? record.created?.timestamp ?? null,
      modified: numberField(fields, "ModificationDate") ?? record.modified?.timestamp ?? null,
      deleted: (numberField(fields, "Deleted") ?? 0) !== 0,
      attachmentIds: referenceListField(fields, "Attachments"),
      body: type === "note" ? (textOrBase64(fields) ?? null) : null,
    };
  }
  if (type === "folder") return { kind: "folder", recordName, title: textField(fields, "TitleEncrypted") ?? "" };
  if (type === "attachment") {
    const asset = assetField(fields, "PrimaryAsset");
    return {
      kind: "attachment",
      recordName,
      uti: textField(fields, "AttachmentUTI") ?? textField(fields, "UTI"),
      filename: textField(fields, "Filename"),
      size: numberField(fields, "Size") ?? asset?.size ?? null,
      assetSize: asset?.size ?? null,
      downloadUrl: asset?.downloadURL ?? null,
    };
  }
  return { kind: "other", recordName };
}

/** `TextDataEncrypted`'s base64 value (never decoded from base64 here: the body decoder does that). */
function textOrBase64(fields: Record<string, unknown>): string | undefined {
  const raw = fields["TextDataEncrypted"];
  if (raw === null || typeof raw !== "object" || !("value" in raw)) return undefined;
  const value = (raw as { value: unknown }).value;
  return typeof value === "string" ? value : undefined;
}
