import { createHash, createHmac } from "node:crypto";
import { generateNotes } from "./generate.ts";
import type { NotesScenario, ScenarioNote } from "./scenario.ts";

export type SimRecordType = "Folder" | "Note" | "PasswordProtectedNote" | "Attachment";

/** A record of the Notes zone as the simulator keeps it (rendered to CloudKit JSON by records.ts). */
export interface SimRecord {
  recordName: string;
  type: SimRecordType;
  version: number;
  created: number;
  modified: number;
  /** Folder: its title. Note: title, body, folder, attachments. Attachment: file name and UTI. */
  title: string;
  body: string;
  folder: string | null;
  deleted: boolean;
  attachments: string[];
  filename: string;
  uti: string;
  noteName: string | null;
}

interface Change {
  seq: number;
  recordName: string;
  /** Removed for good (a tombstone in the feed). */
  gone: boolean;
}

export function uuidFrom(key: string): string {
  const h = createHash("sha256").update(key).digest("hex").toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function assetSignature(secret: string, dsid: string, recordName: string, version: number): string {
  return createHmac("sha256", secret).update(`${dsid}\u0000${recordName}\u0000${version}`).digest("base64url");
}

/**
 * One account's Notes zone: folders, notes and attachments with a change log behind the sync tokens
 * (a generation `resetTokens` bumps, and the last change's sequence number).
 */
export class NotesZone {
  readonly dsid: string;
  readonly initialised: boolean;
  readonly #records = new Map<string, SimRecord>();
  readonly #log: Change[] = [];
  #seq = 0;
  #generation = 1;
  #added = 0;
  readonly #now: () => number;
  readonly #changeEvery: number | undefined;
  #nextChangeAt: number | undefined;
  #turn = 0;

  constructor(dsid: string, scenario: NotesScenario, epoch: number, now: () => number) {
    this.dsid = dsid;
    this.initialised = scenario.initialised;
    this.#now = now;
    for (const title of scenario.folders) this.#folder(title, epoch);
    const generated =
      scenario.generate === undefined
        ? []
        : generateNotes(scenario.generate.count, scenario.generate.seed, dsid, scenario.folders, epoch);
    for (const note of [...scenario.notes, ...generated]) this.add(note, epoch);
    this.#changeEvery = scenario.change_every;
    this.#nextChangeAt = scenario.change_every === undefined ? undefined : epoch + scenario.change_every;
  }

  get generation(): number {
    return this.#generation;
  }

  get seq(): number {
    return this.#seq;
  }

  get(recordName: string): SimRecord | undefined {
    return this.#records.get(recordName);
  }

  records(): SimRecord[] {
    return [...this.#records.values()];
  }

  notes(): SimRecord[] {
    return this.records().filter((r) => r.type === "Note" || r.type === "PasswordProtectedNote");
  }

  folderByTitle(title: string): SimRecord | undefined {
    return this.records().find((r) => r.type === "Folder" && r.title === title);
  }

  /** Adds a note (and its attachments); returns its record name. */
  add(note: ScenarioNote, at = this.#now()): string {
    this.#added += 1;
    const recordName = note.id ?? uuidFrom(`${this.dsid}:note:${this.#added}`);
    const folder =
      note.folder === undefined ? this.records().find((r) => r.type === "Folder") : this.folderByTitle(note.folder);
    const attachments = note.attachments.map((a, i) => {
      const name = uuidFrom(`${recordName}:attachment:${i}`);
      this.#put({
        ...blank(name, "Attachment", note.created ?? at),
        filename: a.filename,
        uti: a.uti,
        noteName: recordName,
      });
      return name;
    });
    this.#put({
      ...blank(recordName, note.locked ? "PasswordProtectedNote" : "Note", note.created ?? at),
      modified: note.modified ?? note.created ?? at,
      title: note.title,
      body: note.body,
      folder: folder?.recordName ?? null,
      deleted: note.deleted,
      attachments,
    });
    return recordName;
  }

  /** Edits a note's title or body (a new modification date, a new version). */
  edit(recordName: string, patch: { title?: string; body?: string }): void {
    const record = this.#records.get(recordName);
    if (record === undefined || (record.type !== "Note" && record.type !== "PasswordProtectedNote"))
      throw new Error(`no note ${recordName}`);
    this.#put({ ...record, ...patch, version: record.version + 1, modified: this.#now() });
  }

  /** Moves a note to Recently Deleted (`Deleted: 1`). */
  trash(recordName: string): void {
    const record = this.#records.get(recordName);
    if (record === undefined) throw new Error(`no note ${recordName}`);
    this.#put({ ...record, deleted: true, version: record.version + 1, modified: this.#now() });
  }

  /** Removes a record for good (a tombstone in the change feed). */
  expunge(recordName: string): void {
    if (!this.#records.delete(recordName)) throw new Error(`no record ${recordName}`);
    this.#seq += 1;
    this.#log.push({ seq: this.#seq, recordName, gone: true });
  }

  resetTokens(): void {
    this.#generation += 1;
  }

  /** Changes after `seq`: each record once, at its latest change, in change order. */
  changesAfter(
    seq: number,
    limit: number,
    types: readonly string[] | undefined,
  ): {
    entries: Array<{ seq: number; record: SimRecord | undefined; recordName: string }>;
    moreComing: boolean;
    lastSeq: number;
  } {
    const latest = new Map<string, number>();
    for (const change of this.#log) if (change.seq > seq) latest.set(change.recordName, change.seq);
    const ordered = [...latest.entries()].sort((a, b) => a[1] - b[1]);
    const entries: Array<{ seq: number; record: SimRecord | undefined; recordName: string }> = [];
    let lastSeq = seq;
    let taken = 0;
    for (const [recordName, changeSeq] of ordered) {
      if (taken >= limit) return { entries, moreComing: true, lastSeq };
      lastSeq = changeSeq;
      const record = this.#records.get(recordName);
      if (record !== undefined && types !== undefined && !types.includes(record.type)) continue;
      entries.push({ seq: changeSeq, record, recordName });
      taken += 1;
    }
    return { entries, moreComing: false, lastSeq: this.#seq };
  }

  /** Applies the `change_every` changes the clock has passed: add, edit, delete in turn. */
  catchUp(now: number): void {
    if (this.#changeEvery === undefined || this.#nextChangeAt === undefined) return;
    while (this.#nextChangeAt <= now) {
      const turn = this.#turn++;
      const at = this.#nextChangeAt;
      const live = this.notes().filter((n) => !n.deleted && n.type === "Note");
      if (turn % 3 === 0 || live.length === 0) {
        this.add(
          {
            title: `New note ${turn + 1}`,
            body: "Written on the simulated iPhone.",
            locked: false,
            deleted: false,
            attachments: [],
          },
          at,
        );
      } else {
        const target = live[turn % live.length] as SimRecord;
        if (turn % 3 === 1) this.edit(target.recordName, { body: `${target.body}\nEdited (${turn}).` });
        else this.trash(target.recordName);
      }
      this.#nextChangeAt += this.#changeEvery;
    }
  }

  #folder(title: string, at: number): void {
    const recordName = uuidFrom(`${this.dsid}:folder:${title}`);
    this.#put({ ...blank(recordName, "Folder", at), title });
  }

  #put(record: SimRecord): void {
    this.#records.set(record.recordName, record);
    this.#seq += 1;
    this.#log.push({ seq: this.#seq, recordName: record.recordName, gone: false });
  }
}

function blank(recordName: string, type: SimRecordType, at: number): SimRecord {
  return {
    recordName,
    type,
    version: 1,
    created: at,
    modified: at,
    title: "",
    body: "",
    folder: null,
    deleted: false,
    attachments: [],
    filename: "",
    uti: "",
    noteName: null,
  };
}

export type { ScenarioNote };
