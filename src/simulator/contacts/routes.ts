/**
 * The simulator's iCloud Contacts web service (the `contacts` webservice of accountLogin), as the
 * public clients read it:
 *
 *   GET {origin}/co/startup?clientVersion&locale&order        → {prefToken, syncToken, groups, contacts, meCardId}
 *   GET {origin}/co/contacts?prefToken&syncToken&limit&offset → {contacts: [card…]} (limit 0 or none = all)
 *   GET|POST {origin}/co/changeset?prefToken&syncToken        → {syncToken, prefToken, contacts, deletes}
 *   GET {origin}/co/photo/<dsid>/<contactId>/<version>?sig=…  → image/jpeg (the cards' `photo.url`)
 *
 * Evidence: timlaing/pyicloud `pyicloud/services/contacts.py` (startup, then contacts with the
 * startup's tokens and `limit=0&offset=0`; `co/changeset` named), MauriceConrad/iCloud-API
 * `resources/apps/Contacts.js` (card fields, `errorCode` in refusals). The changeset answer, photo URLs
 * and every status below are the simulator's own choices (see README.md next to this file).
 */
import { randomBytes } from "node:crypto";
import type { ServiceRoutesFactory, SimServiceAccount, SimServiceContext } from "../context.ts";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { AddressBook, photoJpeg, photoSignature, type SimContact } from "./address-book.ts";
import { parseContactsScenario, type ScenarioContactInput, ScenarioContactSchema } from "./scenario.ts";

export const PREF_TOKEN = "914266sim";

/** What a test can do to one account's simulated address book. */
export interface ContactsProbe {
  readonly book: AddressBook;
  /** Adds a card now; returns its contact id. */
  add(person: ScenarioContactInput): string;
  change(contactId: string, patch: Partial<ScenarioContactInput>): void;
  remove(contactId: string): void;
  /** Makes every sync token handed out so far invalid. */
  resetTokens(): void;
}

/** Latest address book per dsid (the newest simulator wins), for tests. */
const probes = new Map<string, ContactsProbe>();

export function contactsProbe(dsid: string): ContactsProbe {
  const probe = probes.get(dsid);
  if (probe === undefined) throw new Error(`no simulated address book for dsid ${dsid}`);
  return probe;
}

function card(contact: SimContact, photoUrl: string | undefined): Record<string, unknown> {
  const p = contact.person;
  const name = [p.first_name, p.last_name].filter(Boolean).join(" ");
  const out: Record<string, unknown> = {
    contactId: contact.contactId,
    etag: `C=${contact.version}@U=${contact.contactId.toLowerCase()}`,
    isCompany: false,
    normalized: name || p.company || "",
    phones: p.phones.map(({ label, value }) => ({ label, field: value })),
    emailAddresses: p.emails.map(({ label, value }) => ({ label, field: value })),
    urls: p.urls.map(({ label, value }) => ({ label, field: value })),
    streetAddresses: p.addresses.map(({ label, ...a }) => ({
      label,
      field: {
        ...(a.street === undefined ? {} : { street: a.street }),
        ...(a.city === undefined ? {} : { city: a.city }),
        ...(a.state === undefined ? {} : { state: a.state }),
        ...(a.postal_code === undefined ? {} : { postalCode: a.postal_code }),
        ...(a.country === undefined ? {} : { country: a.country }),
        ...(a.country_code === undefined ? {} : { countryCode: a.country_code }),
      },
    })),
  };
  const optional: Array<[string, string | undefined]> = [
    ["firstName", p.first_name],
    ["middleName", p.middle_name],
    ["lastName", p.last_name],
    ["prefix", p.prefix],
    ["suffix", p.suffix],
    ["nickName", p.nickname],
    ["companyName", p.company],
    ["department", p.department],
    ["jobTitle", p.job_title],
    ["birthday", p.birthday],
  ];
  for (const [key, value] of optional) if (value !== undefined) out[key] = value;
  if (photoUrl !== undefined)
    out["photo"] = { url: photoUrl, signature: `${contact.version}`, crop: { x: 0, y: 0, width: 16, height: 16 } };
  return out;
}

export const createContactsRoutes: ServiceRoutesFactory = (ctx: SimServiceContext): Route[] => {
  const epoch = ctx.clock.now();
  const secret = randomBytes(16).toString("hex");
  const books = new Map<string, AddressBook>();
  for (const account of ctx.accounts()) {
    const scenario = parseContactsScenario(account.services["contacts"], account.appleId);
    if (scenario === undefined) continue;
    const book = new AddressBook(account.dsid, scenario, epoch);
    books.set(account.dsid, book);
    probes.set(account.dsid, {
      book,
      add: (person) => book.add(ScenarioContactSchema.parse(person)),
      change: (contactId, patch) => {
        const current = book.get(contactId);
        if (current === undefined) throw new Error(`no contact ${contactId}`);
        book.change(contactId, ScenarioContactSchema.parse({ ...current.person, ...patch }));
      },
      remove: (contactId) => book.remove(contactId),
      resetTokens: () => book.resetTokens(),
    });
  }
  // Accounts with a `contacts` section get the webservice; others have Contacts turned off.
  ctx.advertise?.((account, origin) =>
    books.has(account.dsid) ? { contacts: { url: origin, status: "active" } } : {},
  );

  const photoUrl = (contact: SimContact, dsid: string): string | undefined =>
    contact.person.photo
      ? `${ctx.origin()}/co/photo/${dsid}/${encodeURIComponent(contact.contactId)}/${contact.version}?sig=${photoSignature(secret, dsid, contact.contactId, contact.version)}`
      : undefined;
  const cards = (contacts: readonly SimContact[], dsid: string) => contacts.map((c) => card(c, photoUrl(c, dsid)));

  function open(req: SimRequest): { book: AddressBook; account: SimServiceAccount } | SimResponse {
    const account = ctx.authenticate(req);
    if (account === undefined) return unauthenticated(req);
    // The simulator's choice: Apple's answer for Contacts with web access off is not recorded.
    if (account.webAccessDisabled) return refusal(403, "ACCESS_DENIED", "web access to iCloud data is turned off");
    const book = books.get(account.dsid);
    // Not advertised for this account; a client that calls anyway gets the simulator's 404.
    if (book === undefined) return refusal(404, "NOT_FOUND", "no Contacts service for this account");
    book.catchUp(ctx.clock.now());
    return { book, account };
  }

  function startup(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("book" in opened)) return opened;
    const { book, account } = opened;
    return {
      status: 200,
      json: {
        prefToken: PREF_TOKEN,
        syncToken: book.syncToken(),
        meCardId: null,
        groups: [],
        contacts: cards(book.sorted(), account.dsid),
      },
    };
  }

  function contacts(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("book" in opened)) return opened;
    const { book, account } = opened;
    // pyicloud sends limit=0&offset=0 for "everything"; anything unreadable also means everything.
    const limit = Number.parseInt(req.url.searchParams.get("limit") ?? "0", 10);
    const offset = Math.max(0, Number.parseInt(req.url.searchParams.get("offset") ?? "0", 10) || 0);
    const all = book.sorted();
    const page = Number.isFinite(limit) && limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    return {
      status: 200,
      json: { prefToken: PREF_TOKEN, syncToken: book.syncToken(), contacts: cards(page, account.dsid) },
    };
  }

  function changeset(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("book" in opened)) return opened;
    const { book, account } = opened;
    const seq = book.tokenSeq(req.url.searchParams.get("syncToken") ?? "");
    // The simulator's choice: an unknown or outdated token is refused with an `errorCode` body
    // (MauriceConrad/iCloud-API treats `errorCode` as the contacts service's refusal).
    if (seq === undefined) return refusal(400, "INVALID_SYNC_TOKEN", "the sync token is not valid");
    const { changed, deleted } = book.changesAfter(seq);
    return {
      status: 200,
      json: {
        prefToken: PREF_TOKEN,
        syncToken: book.syncToken(),
        contacts: cards(changed, account.dsid),
        groups: [],
        deletes: { contacts: deleted, groups: [] },
      },
    };
  }

  function photo(req: SimRequest): SimResponse {
    const { dsid = "", contactId = "", version = "" } = req.params;
    const id = decodeURIComponent(contactId);
    const contact = books.get(dsid)?.get(id);
    const expected = photoSignature(secret, dsid, id, Number(version));
    // Photo URLs carry the simulator's own signature (no web-session cookie needed, as CloudKit asset
    // URLs); a wrong one is 403, a card or version that no longer has this photo 404.
    if (req.url.searchParams.get("sig") !== expected) return { status: 403, text: "Forbidden" };
    if (contact === undefined || !contact.person.photo || String(contact.version) !== version)
      return { status: 404, text: "Not Found" };
    return { status: 200, headers: { "Content-Type": "image/jpeg" }, body: photoJpeg(id, contact.version) };
  }

  return [
    { id: "contacts.startup", method: "GET", path: "/co/startup", handle: startup },
    { id: "contacts.contacts", method: "GET", path: "/co/contacts", handle: contacts },
    { id: "contacts.changeset", method: ["GET", "POST"], path: "/co/changeset", handle: changeset },
    {
      id: "contacts.photo",
      method: "GET",
      path: /^\/co\/photo\/(?<dsid>\d+)\/(?<contactId>[^/]+)\/(?<version>\d+)$/,
      handle: photo,
    },
  ];
};

/**
 * No web session at all → 401; an expired one → 421, as the simulator's other iCloud web services
 * answer (pyicloud's session re-authenticates on 421 for every service, `pyicloud/session.py`).
 */
function unauthenticated(req: SimRequest): SimResponse {
  const hasSession = [...req.cookies.keys()].some((name) => name.startsWith("X-APPLE-WEBAUTH-"));
  if (!hasSession) return refusal(401, "AUTHENTICATION_FAILED", "request has no iCloud web session");
  return { status: 421, json: { reason: "Invalid global session", error: 2 } };
}

function refusal(status: number, errorCode: string, errorReason: string): SimResponse {
  return { status, json: { errorCode, errorReason } };
}
