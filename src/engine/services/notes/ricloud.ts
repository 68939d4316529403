import { MmeNoteSchema } from "../../../icloud/notes/types.ts";
import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

/**
 * Notes in the ricloud-compatible API: `mme_notes.notes` results hold the notes as `mme_notes.note`
 * (locked ones without a body), filtered by `since`/`until` on `modified`; a `files` poll with an
 * `mme_notes_attachment://…` id returns the attachment.
 */
export const notesRicloud: RicloudServiceView = {
  items: async (api, account, filters) => {
    const { notes } = await api.execute("list_notes", { account });
    const since = filters.since === undefined ? undefined : Date.parse(filters.since);
    const until = filters.until === undefined ? undefined : Date.parse(filters.until);
    return notes.filter((note) => {
      if (since === undefined && until === undefined) return true;
      const modified = note.modified === null ? Number.NaN : Date.parse(note.modified);
      return (since === undefined || modified >= since) && (until === undefined || modified < until);
    });
  },
  files: {
    scheme: "mme_notes_attachment",
    refs: (item) => {
      const note = MmeNoteSchema.safeParse(item);
      return note.success ? note.data.attachments.map((attachment) => ({ id: attachment.id, ref: null })) : [];
    },
    fetch: async (api, account, id) => {
      const file = await api.execute("note_attachment", { account, file: id });
      const data = Buffer.from(file.data, "base64");
      return { data, size: data.length, extension: file.extension };
    },
  },
};
