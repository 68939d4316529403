import { EngineError } from "../../../errors.ts";
import {
  type AttachmentMeta,
  attachmentItem,
  attachmentMeta,
  type NoteSummary,
  noteItem,
  noteSummary,
  noteText,
} from "../../../icloud/notes/map-note.ts";
import { NotesService } from "../../../icloud/notes/notes-service.ts";
import type { NotesRecord } from "../../../icloud/notes/records.ts";
import { type MmeNote, NOTE_ATTACHMENT_SCHEME } from "../../../icloud/notes/types.ts";
import { byCodeUnits } from "../../../util/compare.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { NotesConfig } from "./config.ts";
import type { NoteChange, NotesEvents, NotesSnapshot } from "./events.ts";
import type { NotesState } from "./state.ts";

/** A file a command fetched, as its result carries it (base64, for every front-end alike). */
export interface FetchedFile {
  id: string;
  content_type: string;
  extension: string;
  size: number;
  data: string;
}

const RECENT = 10;

interface Book {
  notes: Record<string, NoteSummary>;
  folders: Record<string, string>;
  attachments: Record<string, AttachmentMeta>;
  /** Bodies that came with this read (only when asked for), by record name. */
  texts: Map<string, string | null>;
}

/** Applies change-feed records, oldest first, to `book`. */
function apply(book: Book, records: readonly NotesRecord[]): void {
  for (const record of records) {
    switch (record.kind) {
      case "note":
        if (record.deleted) {
          delete book.notes[record.recordName];
          book.texts.delete(record.recordName);
        } else {
          book.notes[record.recordName] = noteSummary(record);
          book.texts.set(record.recordName, noteText(record));
        }
        break;
      case "folder":
        book.folders[record.recordName] = record.title;
        break;
      case "attachment":
        book.attachments[record.recordName] = attachmentMeta(record);
        break;
      case "tombstone":
        delete book.notes[record.recordName];
        delete book.folders[record.recordName];
        delete book.attachments[record.recordName];
        book.texts.delete(record.recordName);
        break;
      default:
        break;
    }
  }
}

const emptyBook = (): Book => ({ notes: {}, folders: {}, attachments: {}, texts: new Map() });
const byModified = (a: MmeNote, b: MmeNote) =>
  byCodeUnits(b.modified ?? "", a.modified ?? "") || byCodeUnits(a.id, b.id);

/**
 * iCloud Notes for one account: the Notes zone's change feed from the stored sync token (the whole
 * zone on the first run, or when Apple refuses the token). Each note created, changed or deleted
 * after the first run is announced once; bodies travel only when `publish_body` is on and are never
 * stored or logged.
 */
export class NotesRuntime implements ServiceRuntime<NotesSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<NotesConfig, NotesState, NotesEvents>;
  readonly #service: NotesService;

  constructor(ctx: ServiceContext<NotesConfig, NotesState, NotesEvents>) {
    this.#ctx = ctx;
    this.#service = new NotesService(ctx.transport, { log: ctx.log });
    this.jobs = [{ name: "notes", schedule: ctx.config.schedule, run: () => this.#sync() }];
  }

  snapshot(): NotesSnapshot {
    const { state } = this.#ctx;
    const recent = Object.entries(state.notes)
      .map(([id, note]) => noteItem(id, note, state.folders, state.attachments, null))
      .sort(byModified)
      .slice(0, RECENT);
    return { count: state.count, recent };
  }

  /** Every note with its body (locked ones without), newest first, read from iCloud now. */
  async list(options: { limit: number; folder?: string | undefined }): Promise<MmeNote[]> {
    const read = await this.#service.changes(undefined, { bodies: true });
    const book = emptyBook();
    if (read !== undefined) apply(book, read.records);
    return Object.entries(book.notes)
      .map(([id, note]) => noteItem(id, note, book.folders, book.attachments, book.texts.get(id) ?? null))
      .filter(
        (note) => options.folder === undefined || note.folder === options.folder || note.folder_id === options.folder,
      )
      .sort(byModified)
      .slice(0, options.limit);
  }

  /** An attachment's bytes by its file id (`mme_notes_attachment://<record name>`), with a fresh asset URL. */
  async attachment(file: string): Promise<FetchedFile> {
    const recordName = file.slice(`${NOTE_ATTACHMENT_SCHEME}://`.length);
    const [record] = await this.#service.lookup([recordName]);
    if (record?.kind !== "attachment" || record.downloadUrl === null)
      throw new EngineError("NOT_FOUND", `no note attachment ${file}`);
    const item = attachmentItem(recordName, attachmentMeta(record));
    const fetched = await this.#service.download(record.downloadUrl, record.filename ?? "attachment", {
      size: record.assetSize,
    });
    return {
      id: file,
      content_type: fetched.contentType.split(";")[0]?.trim() || "application/octet-stream",
      extension: item.extension ?? "bin",
      size: fetched.body.length,
      data: fetched.body.toString("base64"),
    };
  }

  async #sync(): Promise<void> {
    const { state, config } = this.#ctx;
    const first = state.sync_token === null;
    const previous = state.notes;
    let read = await this.#service.changes(state.sync_token ?? undefined, { bodies: config.publish_body });
    let book: Book = {
      notes: { ...state.notes },
      folders: { ...state.folders },
      attachments: { ...state.attachments },
      texts: new Map(),
    };
    if (read === undefined) {
      this.#ctx.log.warn("the Notes sync token was refused; reading the whole zone again");
      read = await this.#service.changes(undefined, { bodies: config.publish_body });
      book = emptyBook();
      if (read === undefined)
        throw new EngineError("UNEXPECTED_RESPONSE", "changes/zone refused a request without token");
    }
    apply(book, read.records);
    const changes: Array<{ change: NoteChange; note: MmeNote }> = [];
    if (!first) {
      for (const [id, note] of Object.entries(book.notes)) {
        const before = previous[id];
        const change =
          before === undefined ? "created" : JSON.stringify(before) !== JSON.stringify(note) ? "updated" : undefined;
        if (change === undefined) continue;
        const text = config.publish_body ? (book.texts.get(id) ?? null) : null;
        changes.push({ change, note: noteItem(id, note, book.folders, book.attachments, text) });
      }
      for (const [id, note] of Object.entries(previous)) {
        if (book.notes[id] === undefined)
          changes.push({ change: "deleted", note: noteItem(id, note, book.folders, book.attachments, null) });
      }
    }
    const previousCount = state.count;
    state.sync_token = read.token;
    state.notes = book.notes;
    state.folders = book.folders;
    state.attachments = book.attachments;
    state.count = Object.keys(book.notes).length;
    await this.#ctx.save();
    changes.sort((a, b) => -byModified(a.note, b.note));
    for (const { change, note } of changes) this.#ctx.emit("note.changed", { change, note });
    if (state.count !== previousCount) this.#ctx.emit("notes.count", { count: state.count });
  }
}
