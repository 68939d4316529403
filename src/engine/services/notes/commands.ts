import { z } from "zod";
import { accountField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { NotesRuntime } from "./runtime.ts";

const listNotes = z.strictObject({
  account: accountField,
  folder: z.string().min(1).max(200).optional().describe("Only notes in this folder (name or id)"),
  limit: z.number().int().min(1).max(50_000).default(1000).describe("At most this many notes, newest first"),
});
const noteAttachment = z.strictObject({
  account: accountField,
  file: z
    .string()
    .regex(/^mme_notes_attachment:\/\/[\x21-\x7e]{1,300}$/)
    .describe("The attachment's `id` (mme_notes_attachment://…)"),
});

/** Notes' commands (read-only; the polling job's sync token is left alone). */
export const notesCommands = {
  /** Notes (`mme_notes.note`) with their plain-text bodies (none for locked notes), read from iCloud now. */
  list_notes: {
    schema: listNotes,
    run: async (runtime, { folder, limit }) => ({ notes: await runtime.list({ limit, folder }) }),
  } satisfies ServiceCommand<typeof listNotes, NotesRuntime, unknown>,
  /** A note attachment: `{id, content_type, extension, size, data}` with the bytes as base64. */
  note_attachment: {
    schema: noteAttachment,
    run: (runtime, { file }) => runtime.attachment(file),
  } satisfies ServiceCommand<typeof noteAttachment, NotesRuntime, unknown>,
};
