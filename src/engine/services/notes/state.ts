import { z } from "zod";

export const NoteSummarySchema = z.object({
  title: z.string(),
  folder_id: z.string().nullable(),
  created: z.number().nullable(),
  modified: z.number().nullable(),
  locked: z.boolean(),
  attachment_ids: z.array(z.string()),
});

export const AttachmentMetaSchema = z.object({
  uti: z.string().nullable(),
  filename: z.string().nullable(),
  size: z.number().nullable(),
});

/**
 * What the notes service keeps across restarts: the Notes zone's sync token, and per note its title,
 * folder, dates and attachment ids (never a body), with the folders' names and attachments' metadata.
 */
export const NotesStateSchema = z.object({
  sync_token: z.string().nullable().default(null),
  notes: z.record(z.string(), NoteSummarySchema).default({}),
  folders: z.record(z.string(), z.string()).default({}),
  attachments: z.record(z.string(), AttachmentMetaSchema).default({}),
  count: z.number().int().nonnegative().nullable().default(null),
});
export type NotesState = z.output<typeof NotesStateSchema>;
