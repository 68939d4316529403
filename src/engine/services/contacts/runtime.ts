import { EngineError } from "../../../errors.ts";
import { type ContactCard, ContactsService } from "../../../icloud/contacts/contacts-service.ts";
import { contactItemId } from "../../../icloud/contacts/map-contact.ts";
import { CONTACT_IMAGE_SCHEME, displayName, type MmeContact } from "../../../icloud/contacts/types.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import { birthdaysOn, isoDate, localToday } from "./birthdays.ts";
import type { ContactsConfig } from "./config.ts";
import type { ContactsEvents, ContactsSnapshot } from "./events.ts";
import type { ContactsState, KnownContact } from "./state.ts";

/** A file a command fetched, as its result carries it (base64, for every front-end alike). */
export interface FetchedFile {
  id: string;
  content_type: string;
  extension: string;
  size: number;
  /** The bytes, base64. */
  data: string;
}

function known(card: ContactCard): KnownContact {
  return {
    contact_id: card.contactId,
    name: displayName(card.contact),
    birthday: card.contact.birthday,
    photo_url: card.photoUrl,
  };
}

/**
 * iCloud Contacts for one account: the whole address book on the first run, then one `co/changeset`
 * per run with the stored sync token (the whole book again when Apple refuses the token). It keeps
 * only names, birthdays and photo URLs, and publishes today's birthdays; a timer moves them on at
 * midnight without any request.
 */
export class ContactsRuntime implements ServiceRuntime<ContactsSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<ContactsConfig, ContactsState, ContactsEvents>;
  readonly #service: ContactsService;
  #midnight: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(ctx: ServiceContext<ContactsConfig, ContactsState, ContactsEvents>) {
    this.#ctx = ctx;
    this.#service = new ContactsService(ctx.transport, { log: ctx.log });
    this.jobs = [{ name: "contacts", schedule: ctx.config.schedule, run: () => this.#sync() }];
    this.#armMidnight();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#midnight);
  }

  /** Works out today's birthdays again just after the next local midnight (and every midnight after). */
  #armMidnight(): void {
    if (this.#closed) return;
    const now = new Date();
    const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 1);
    // Capped, so a clock change or a suspended machine is caught up within the hour.
    const delay = Math.min(next.getTime() - now.getTime(), 3_600_000);
    this.#midnight = setTimeout(() => {
      this.#birthdays()
        .catch((error: unknown) => this.#ctx.log.warn(`birthdays: ${String(error)}`))
        .finally(() => this.#armMidnight());
    }, delay);
    this.#midnight.unref?.();
  }

  snapshot(): ContactsSnapshot {
    const { state } = this.#ctx;
    return { count: state.count, date: state.birthdays_date, birthdays_today: state.birthdays_today };
  }

  /** The whole address book (`mme_contacts.contact`), read now; the stored tokens are left alone. */
  async list(limit: number): Promise<MmeContact[]> {
    const { cards } = await this.#service.readAll();
    return cards.slice(0, limit).map((card) => card.contact);
  }

  /** A profile photo by its file id (`mme_contact_image://<id>`). */
  async image(file: string): Promise<FetchedFile> {
    const id = file.slice(`${CONTACT_IMAGE_SCHEME}://`.length);
    let url = this.#ctx.state.contacts[id]?.photo_url ?? null;
    let fetched: { body: Buffer; contentType: string } | undefined;
    if (url !== null) {
      try {
        fetched = await this.#service.photo(url);
      } catch (error) {
        if (!(error instanceof EngineError && error.code === "NOT_FOUND")) throw error;
      }
    }
    if (fetched === undefined) {
      // Unknown here, or the stored URL no longer works: look the card up in the address book.
      const { cards } = await this.#service.readAll();
      url = cards.find((card) => card.contact.id === id)?.photoUrl ?? null;
      if (url === null) throw new EngineError("NOT_FOUND", `no contact image ${file}`);
      fetched = await this.#service.photo(url);
    }
    const contentType = fetched.contentType.split(";")[0]?.trim() || "image/jpeg";
    return {
      id: file,
      content_type: contentType,
      extension: contentType === "image/png" ? "png" : "jpg",
      size: fetched.body.length,
      data: fetched.body.toString("base64"),
    };
  }

  async #sync(): Promise<void> {
    const { state } = this.#ctx;
    const contacts = await this.#read(state);
    state.contacts = contacts;
    const previousCount = state.count;
    state.count = Object.keys(contacts).length;
    const birthdays = this.#computeBirthdays();
    await this.#ctx.save();
    if (state.count !== previousCount) this.#ctx.emit("contacts.count", { count: state.count });
    if (birthdays !== undefined) this.#ctx.emit("contacts.birthdays", birthdays);
  }

  /** The contacts after this run's changes, keyed by published id. */
  async #read(state: ContactsState): Promise<Record<string, KnownContact>> {
    if (state.pref_token !== null && state.sync_token !== null) {
      const result = await this.#service.changes({ prefToken: state.pref_token, syncToken: state.sync_token });
      if (result.kind === "changes") {
        const contacts = { ...state.contacts };
        for (const contactId of result.deleted) delete contacts[contactItemId(contactId)];
        for (const card of result.changed) contacts[card.contact.id] = known(card);
        state.pref_token = result.tokens.prefToken;
        state.sync_token = result.tokens.syncToken;
        return contacts;
      }
    }
    const { cards, tokens } = await this.#service.readAll();
    state.pref_token = tokens.prefToken;
    state.sync_token = tokens.syncToken;
    return Object.fromEntries(cards.map((card) => [card.contact.id, known(card)]));
  }

  async #birthdays(): Promise<void> {
    if (this.#ctx.state.count === null) return;
    const birthdays = this.#computeBirthdays();
    if (birthdays === undefined) return;
    await this.#ctx.save();
    this.#ctx.emit("contacts.birthdays", birthdays);
  }

  /** Today's birthdays when they differ from the stored ones (and stores them); undefined when unchanged. */
  #computeBirthdays(): { date: string; contacts: ContactsState["birthdays_today"] } | undefined {
    const { state } = this.#ctx;
    const today = localToday();
    const date = isoDate(today);
    const people = Object.entries(state.contacts).map(([id, c]) => ({ id, name: c.name, birthday: c.birthday }));
    const contacts = birthdaysOn(people, today);
    if (date === state.birthdays_date && JSON.stringify(contacts) === JSON.stringify(state.birthdays_today))
      return undefined;
    state.birthdays_date = date;
    state.birthdays_today = contacts;
    return { date, contacts };
  }
}
