import { createHash, createHmac } from "node:crypto";
import { generateContacts } from "./generate.ts";
import type { ContactsScenario, ScenarioContact } from "./scenario.ts";

/** A card as the simulator keeps it. */
export interface SimContact {
  contactId: string;
  /** Bumped on every change; part of the etag and the photo URL. */
  version: number;
  person: ScenarioContact;
}

interface Change {
  seq: number;
  contactId: string;
  deleted: boolean;
}

const COLLATOR = new Intl.Collator("en");

/** A 16x16 grey baseline JPEG (made with the photos simulator's encoder); a comment makes each photo distinct. */
const JPEG_BODY = Buffer.from(
  "/9j/4AAQSkZJRgABAQAAAQABAAD//gAC/9sAQwABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB/8AAEQgAEAAQAwERAAIRAAMRAP/EADIAAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKCxAAAgAAAAAAAAAAAAAAAAAAAPD/2gAMAwEAAgADAAA/APzXPsA/rIP6WDjz4vPwvK5oH0AcOfI5/9k=",
  "base64",
);

/** The profile photo of a card version: the JPEG above with a comment segment naming it. */
export function photoJpeg(contactId: string, version: number): Buffer {
  const comment = Buffer.from(`${contactId}#${version}`, "utf8");
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(comment.length + 2, 2);
  return Buffer.concat([JPEG_BODY.subarray(0, 2), segment, comment, JPEG_BODY.subarray(2)]);
}

/**
 * One account's address book: the cards, and a change log behind the sync tokens (`…S=<seq>`, with
 * a generation that `resetTokens` bumps to make every earlier token invalid).
 */
export class AddressBook {
  readonly dsid: string;
  readonly #contacts = new Map<string, SimContact>();
  /** `sorted()`'s answer until the next change. */
  #sorted: SimContact[] | undefined;
  readonly #log: Change[] = [];
  #seq = 0;
  #generation = 1;
  #added = 0;
  readonly #changeEvery: number | undefined;
  #nextChangeAt: number | undefined;
  #turn = 0;

  constructor(dsid: string, scenario: ContactsScenario, epoch: number) {
    this.dsid = dsid;
    const start = new Date(epoch);
    const generated =
      scenario.generate === undefined
        ? []
        : generateContacts(
            scenario.generate.count,
            scenario.generate.seed,
            dsid,
            { month: start.getMonth() + 1, day: start.getDate() },
            scenario.generate.birthdays_today,
          );
    for (const person of [...scenario.people, ...generated]) this.add(person, false);
    this.#changeEvery = scenario.change_every;
    this.#nextChangeAt = scenario.change_every === undefined ? undefined : epoch + scenario.change_every;
  }

  get size(): number {
    return this.#contacts.size;
  }

  get seq(): number {
    return this.#seq;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Cards sorted as `order=last,first` asks (the only order the public clients request). */
  sorted(): SimContact[] {
    if (this.#sorted === undefined) {
      const key = (c: SimContact) =>
        `${c.person.last_name ?? ""}\u0000${c.person.first_name ?? ""}\u0000${c.contactId}`;
      this.#sorted = [...this.#contacts.values()].sort((a, b) => COLLATOR.compare(key(a), key(b)));
    }
    return this.#sorted;
  }

  get(contactId: string): SimContact | undefined {
    return this.#contacts.get(contactId);
  }

  /** Adds a card; returns its contact id. */
  add(person: ScenarioContact, logged = true): string {
    this.#added += 1;
    const contactId = person.id ?? uuidFrom(`${this.dsid}:contact:${this.#added}`);
    this.#contacts.set(contactId, { contactId, version: 1, person: { ...person, id: contactId } });
    this.#sorted = undefined;
    if (logged) this.#record(contactId, false);
    return contactId;
  }

  change(contactId: string, patch: Partial<ScenarioContact>): void {
    const contact = this.#contacts.get(contactId);
    if (contact === undefined) throw new Error(`no contact ${contactId}`);
    contact.person = { ...contact.person, ...patch, id: contactId };
    contact.version += 1;
    this.#record(contactId, false);
  }

  remove(contactId: string): void {
    if (!this.#contacts.delete(contactId)) throw new Error(`no contact ${contactId}`);
    this.#record(contactId, true);
  }

  /** Makes every token handed out so far invalid (as after a server-side reset). */
  resetTokens(): void {
    this.#generation += 1;
  }

  syncToken(): string {
    return `HSim${this.#generation}@U=${this.dsid}@S=${this.#seq}`;
  }

  /** The change-log position a token names, or undefined when the token is not (or no longer) valid. */
  tokenSeq(token: string): number | undefined {
    const match = /^HSim(\d+)@U=(\d+)@S=(\d+)$/.exec(token);
    if (!match || Number(match[1]) !== this.#generation || match[2] !== this.dsid) return undefined;
    const seq = Number(match[3]);
    return seq <= this.#seq ? seq : undefined;
  }

  /** Cards changed (still present) and ids deleted after `seq`. */
  changesAfter(seq: number): { changed: SimContact[]; deleted: string[] } {
    const last = new Map<string, boolean>();
    for (const change of this.#log) if (change.seq > seq) last.set(change.contactId, change.deleted);
    const changed: SimContact[] = [];
    const deleted: string[] = [];
    for (const [contactId, wasDeleted] of last) {
      const contact = this.#contacts.get(contactId);
      if (wasDeleted || contact === undefined) deleted.push(contactId);
      else changed.push(contact);
    }
    return { changed, deleted };
  }

  /** Applies the `change_every` changes the clock has passed: add, change, delete in turn. */
  catchUp(now: number): void {
    if (this.#changeEvery === undefined || this.#nextChangeAt === undefined) return;
    while (this.#nextChangeAt <= now) {
      const turn = this.#turn++;
      const existing = this.sorted();
      if (turn % 3 === 0 || existing.length === 0) {
        this.add({
          first_name: "New",
          last_name: `Contact ${turn + 1}`,
          phones: [{ label: "MOBILE", value: `+1 415 555 ${String(1000 + turn).slice(-4)}` }],
          emails: [],
          urls: [],
          addresses: [],
          photo: false,
        });
      } else {
        const target = existing[turn % existing.length] as SimContact;
        if (turn % 3 === 1) this.change(target.contactId, { job_title: `Role ${turn}` });
        else this.remove(target.contactId);
      }
      this.#nextChangeAt += this.#changeEvery;
    }
  }

  #record(contactId: string, deleted: boolean): void {
    this.#sorted = undefined;
    this.#seq += 1;
    this.#log.push({ seq: this.#seq, contactId, deleted });
  }
}

/** An upper-case UUID-shaped id from a key (Apple's contact ids look like this). */
export function uuidFrom(key: string): string {
  const h = createHash("sha256").update(key).digest("hex").toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The signature in photo URLs (the simulator's own scheme). */
export function photoSignature(secret: string, dsid: string, contactId: string, version: number): string {
  return createHmac("sha256", secret).update(`${dsid}\u0000${contactId}\u0000${version}`).digest("base64url");
}
