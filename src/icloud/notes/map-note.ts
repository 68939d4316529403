import { decodeNoteBody } from "./note-body.ts";
import type { AttachmentRecord, NoteRecord } from "./records.ts";
import { type MmeNote, NOTE_ATTACHMENT_SCHEME, type NoteAttachment } from "./types.ts";

const UTI_EXTENSIONS: Readonly<Record<string, string>> = {
  "public.jpeg": "jpg",
  "public.png": "png",
  "public.heic": "heic",
  "com.compuserve.gif": "gif",
  "public.tiff": "tiff",
  "com.adobe.pdf": "pdf",
  "public.url": "webloc",
  "public.plain-text": "txt",
  "public.vcard": "vcf",
  "com.apple.quicktime-movie": "mov",
  "public.mpeg-4": "mp4",
  "com.apple.m4a-audio": "m4a",
};
const IMAGE_EXTENSIONS = new Set(["jpg", "jpeg", "png", "heic", "gif", "tiff", "webp"]);

/** What the service remembers of an attachment (no URL: those expire). */
export interface AttachmentMeta {
  uti: string | null;
  filename: string | null;
  size: number | null;
}

export function attachmentMeta(record: AttachmentRecord): AttachmentMeta {
  return { uti: record.uti, filename: record.filename, size: record.size };
}

/** An attachment as items carry it: a file id, its kind, extension, name and size when known. */
export function attachmentItem(recordName: string, meta: AttachmentMeta | undefined): NoteAttachment {
  const fromName = /\.([A-Za-z0-9]{1,8})$/.exec(meta?.filename ?? "")?.[1]?.toLowerCase();
  const extension = fromName ?? (meta?.uti ? UTI_EXTENSIONS[meta.uti] : undefined) ?? null;
  const image = (meta?.uti ?? "").startsWith("public.") && IMAGE_EXTENSIONS.has(extension ?? "");
  return {
    id: `${NOTE_ATTACHMENT_SCHEME}://${recordName}`,
    data_type: image || IMAGE_EXTENSIONS.has(extension ?? "") ? "image" : "file",
    extension,
    filename: meta?.filename ?? null,
    uti: meta?.uti ?? null,
    size: meta?.size ?? null,
  };
}

/** What the service remembers of a note (no body). */
export interface NoteSummary {
  title: string;
  folder_id: string | null;
  created: number | null;
  modified: number | null;
  locked: boolean;
  attachment_ids: string[];
}

export function noteSummary(record: NoteRecord): NoteSummary {
  return {
    title: record.title,
    folder_id: record.folderId,
    created: record.created,
    modified: record.modified,
    locked: record.locked,
    attachment_ids: record.attachmentIds,
  };
}

/** The plain-text body of a note record; null for locked notes and bodies that did not come or cannot be read. */
export function noteText(record: NoteRecord): string | null {
  if (record.locked || record.body === null) return null;
  return decodeNoteBody(record.body)?.text ?? null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A note in ricloud's `mme_notes.note` vocabulary. */
export function noteItem(
  id: string,
  note: NoteSummary,
  folders: Readonly<Record<string, string>>,
  attachments: Readonly<Record<string, AttachmentMeta>>,
  text: string | null,
): MmeNote {
  return {
    id,
    data_type: "mme_notes.note",
    title: note.title,
    folder: note.folder_id === null ? null : (folders[note.folder_id] ?? null),
    folder_id: note.folder_id,
    created: iso(note.created),
    modified: iso(note.modified),
    locked: note.locked,
    text: note.locked ? null : text,
    attachments: note.attachment_ids.map((rn) => attachmentItem(rn, attachments[rn])),
  };
}
