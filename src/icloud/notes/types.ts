import { z } from "zod";

/** `mme_notes_attachment://<record name>`: fetched with the `note_attachment` command. */
export const NOTE_ATTACHMENT_SCHEME = "mme_notes_attachment";

export const NoteAttachmentSchema = z.object({
  id: z.string().startsWith(`${NOTE_ATTACHMENT_SCHEME}://`),
  /** `image` for pictures, `file` for anything else. */
  data_type: z.enum(["image", "file"]),
  extension: z.string().nullable(),
  filename: z.string().nullable(),
  /** The attachment's uniform type identifier (`public.jpeg`, `com.adobe.pdf`, `public.url`), when known. */
  uti: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
});
export type NoteAttachment = z.infer<typeof NoteAttachmentSchema>;

/**
 * A note as the bridge publishes it (`mme_notes.notes` items). `text` is the plain-text body: null
 * for locked notes, and in events unless `notes.publish_body` is on. Bodies are never logged.
 */
export const MmeNoteSchema = z.object({
  /** The note's CloudKit record name. */
  id: z.string().min(1),
  data_type: z.literal("mme_notes.note"),
  title: z.string(),
  /** The folder's name, null when unknown. */
  folder: z.string().nullable(),
  folder_id: z.string().nullable(),
  created: z.iso.datetime({ offset: true }).nullable(),
  modified: z.iso.datetime({ offset: true }).nullable(),
  /** Locked with a password in Notes: listed, but its body cannot be read. */
  locked: z.boolean(),
  text: z.string().nullable(),
  attachments: z.array(NoteAttachmentSchema),
});
export type MmeNote = z.infer<typeof MmeNoteSchema>;
