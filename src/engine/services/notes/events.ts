import type { MmeNote } from "../../../icloud/notes/types.ts";

export type NoteChange = "created" | "updated" | "deleted";

/** What the notes service tells front-ends. */
export type NotesEvents = {
  /**
   * A note was created, changed or deleted (not emitted for the notes found on the first run). `text`
   * is null unless `notes.publish_body` is on.
   */
  "note.changed": [{ account: string; change: NoteChange; note: MmeNote }];
  /** The number of notes changed. */
  "notes.count": [{ account: string; count: number }];
};

export interface NotesSnapshot {
  count: number | null;
  /** The ten most recently modified notes, without bodies. */
  recent: MmeNote[];
}
