import type { z } from "zod";
import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import { readDownload } from "../download-body.ts";
import type { ServiceResponse, ServiceTransport } from "../service-transport.ts";
import { contactFromWire } from "./map-contact.ts";
import type { MmeContact } from "./types.ts";
import { ChangesetSchema, ContactsErrorSchema, ContactsPageSchema, StartupSchema, WireContactSchema } from "./wire.ts";

/** The webservice `accountLogin` names for iCloud Contacts. */
export const CONTACTS_WEBSERVICE = "contacts";

export const NO_CONTACTS_SERVICE_MESSAGE =
  "iCloud offers no Contacts web service for this account (Contacts is turned off in its iCloud settings)";

/** Cards per `co/contacts` page. */
export const CONTACTS_PAGE_SIZE = 500;
/** Guards against a service that keeps answering full pages. */
const MAX_PAGES = 400;
/** Profile images larger than this are refused. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** The tokens `co/startup` hands out; every later call names them. */
export interface ContactsTokens {
  prefToken: string;
  syncToken: string;
}

/** One card: the published contact, Apple's id and where its photo is. */
export interface ContactCard {
  contact: MmeContact;
  contactId: string;
  photoUrl: string | null;
}

export type ChangesResult =
  | { kind: "changes"; changed: ContactCard[]; deleted: string[]; tokens: ContactsTokens }
  /** The service refused the stored tokens: read everything again. */
  | { kind: "expired" };

const BASE_QUERY = { clientVersion: "2.1", locale: "en_US", order: "last,first" };

/**
 * iCloud Contacts through the web service iCloud.com uses (the `contacts` webservice): the whole
 * address book with `co/startup` and `co/contacts` (paged with `limit`/`offset`), changes since a
 * sync token with one `co/changeset`, and profile photos by URL. Contact details are never logged.
 */
export class ContactsService {
  readonly #transport: ServiceTransport;
  readonly #log: Logger;
  readonly #pageSize: number;

  constructor(transport: ServiceTransport, options: { log?: Logger; pageSize?: number } = {}) {
    this.#transport = transport;
    this.#log = (options.log ?? silentLogger).child({ client: "contacts" });
    this.#pageSize = options.pageSize ?? CONTACTS_PAGE_SIZE;
  }

  /** Every card, and the tokens to ask for changes later. */
  async readAll(): Promise<{ cards: ContactCard[]; tokens: ContactsTokens }> {
    const startup = await this.#get("/co/startup", StartupSchema, BASE_QUERY);
    const tokens = { prefToken: startup.prefToken, syncToken: startup.syncToken };
    const byId = new Map<string, ContactCard>();
    for (let pages = 0, offset = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw new EngineError("UNEXPECTED_RESPONSE", "co/contacts never ended");
      const page = await this.#get("/co/contacts", ContactsPageSchema, {
        ...BASE_QUERY,
        ...tokens,
        limit: String(this.#pageSize),
        offset: String(offset),
      });
      const before = byId.size;
      for (const card of this.#cards(page.contacts)) byId.set(card.contactId, card);
      // A short page ends the book; so does a page with nothing new (a service that ignores `limit`).
      if (page.contacts.length < this.#pageSize || byId.size === before) break;
      offset += page.contacts.length;
    }
    this.#log.debug("read the address book", { contacts: byId.size });
    return { cards: [...byId.values()], tokens };
  }

  /** The cards added, changed and deleted since `tokens`, with one request. */
  async changes(tokens: ContactsTokens): Promise<ChangesResult> {
    const response = await this.#request("/co/changeset", { ...BASE_QUERY, ...tokens });
    if (isRefusedToken(response)) {
      this.#log.info("the contacts service refused the stored sync token; reading the address book again", {
        status: response.status,
      });
      return { kind: "expired" };
    }
    const body = this.#parse(response, "/co/changeset", ChangesetSchema);
    const changed = this.#cards(body.contacts);
    const deleted = body.deletes?.contacts ?? [];
    this.#log.debug("read address book changes", { changed: changed.length, deleted: deleted.length });
    return {
      kind: "changes",
      changed,
      deleted,
      tokens: { prefToken: body.prefToken ?? tokens.prefToken, syncToken: body.syncToken },
    };
  }

  /** A profile photo's bytes. */
  async photo(url: string): Promise<{ body: Buffer; contentType: string }> {
    const response = await this.#transport.download(url);
    if (response.status !== 200) {
      response.body.on("error", () => undefined);
      response.body.resume();
      if (response.status === 401 || response.status === 403 || response.status === 404 || response.status === 410)
        throw new EngineError("NOT_FOUND", `the contact photo is no longer available (${response.status})`, {
          info: { status: response.status },
        });
      throw statusError(response.status, "contact photo");
    }
    const body = await readDownload(response, { what: "the contact photo", maxBytes: MAX_IMAGE_BYTES });
    return { body, contentType: response.headers["content-type"] ?? "image/jpeg" };
  }

  #cards(raw: readonly unknown[]): ContactCard[] {
    const cards: ContactCard[] = [];
    let skipped = 0;
    for (const item of raw) {
      const parsed = WireContactSchema.safeParse(item);
      if (!parsed.success) {
        skipped += 1;
        continue;
      }
      cards.push({
        contact: contactFromWire(parsed.data),
        contactId: parsed.data.contactId,
        photoUrl: parsed.data.photo?.url ?? null,
      });
    }
    // Only a count: a card is personal data.
    if (skipped > 0) this.#log.warn("skipped unreadable contact cards", { count: skipped });
    return cards;
  }

  async #get<S extends z.ZodType>(path: string, schema: S, query: Record<string, string>): Promise<z.output<S>> {
    return this.#parse(await this.#request(path, query), path, schema);
  }

  #request(path: string, query: Record<string, string>): Promise<ServiceResponse> {
    if (this.#transport.serviceUrl(CONTACTS_WEBSERVICE) === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", NO_CONTACTS_SERVICE_MESSAGE);
    }
    return this.#transport.request(CONTACTS_WEBSERVICE, path, { method: "GET", query });
  }

  #parse<S extends z.ZodType>(response: ServiceResponse, path: string, schema: S): z.output<S> {
    if (response.status !== 200) throw statusError(response.status, path);
    const refused = ContactsErrorSchema.safeParse(response.json);
    if (refused.success) {
      throw new EngineError(
        "UNEXPECTED_RESPONSE",
        `contacts ${path} answered error ${String(refused.data.errorCode)}`,
        {
          info: { error_code: refused.data.errorCode },
        },
      );
    }
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      throw new EngineError("UNEXPECTED_RESPONSE", `contacts ${path} answered an unexpected body`, {
        info: { issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`) },
      });
    }
    return parsed.data;
  }
}

/** A changeset answer that means "these tokens are no longer valid" rather than a failure to retry. */
function isRefusedToken(response: ServiceResponse): boolean {
  if ([400, 404, 409, 410, 412].includes(response.status)) return true;
  return response.status === 200 && ContactsErrorSchema.safeParse(response.json).success;
}

function statusError(status: number, what: string): EngineError {
  const info = { status };
  if (status === 401 || status === 421)
    return new EngineError("SESSION_EXPIRED", `contacts ${what}: the session was refused (${status})`, { info });
  if (status === 403)
    return new EngineError(
      "WEB_ACCESS_DISABLED",
      "iCloud refused access to Contacts (403): turn on Access iCloud Data on the Web in the Apple ID's iCloud settings",
      { info },
    );
  if (status === 429) return new EngineError("RATE_LIMITED", `contacts ${what}: rate limited (429)`, { info });
  if (status >= 500)
    return new EngineError("SERVICE_UNAVAILABLE", `contacts ${what}: Apple answered ${status}`, { info });
  return new EngineError("UNEXPECTED_RESPONSE", `contacts ${what}: Apple answered ${status}`, { info });
}
