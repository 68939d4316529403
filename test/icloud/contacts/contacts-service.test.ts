import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContactsService, NO_CONTACTS_SERVICE_MESSAGE } from "../../../src/icloud/contacts/contacts-service.ts";
import { contactItemId } from "../../../src/icloud/contacts/map-contact.ts";
import { MmeContactSchema } from "../../../src/icloud/contacts/types.ts";
import { ICloudSession } from "../../../src/icloud/session.ts";
import { contactsProbe, createContactsRoutes } from "../../../src/simulator/contacts/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { startSim } from "../../support/harness.ts";

/** The contacts client against the simulator's Contacts web service over real HTTP; nothing is mocked. */

const DSID = "10000000101";
const JOHN = {
  id: "2CF6A837-304D-6614-8E4B-5E2A1D7C9F00",
  prefix: "Mr.",
  first_name: "John",
  middle_name: "'Gala'",
  last_name: "Appleseed",
  suffix: "Jr.",
  nickname: "John'o",
  company: "Apple Inc.",
  department: "Marketing",
  job_title: "VP Coring",
  birthday: "1976-04-01",
  phones: [
    { label: "MAIN", value: "1-800-MY-APPLE" },
    { label: "UK", value: "0800 039 1010" },
  ],
  emails: [{ label: "WORK", value: "john@example.com" }],
  urls: [{ label: "HOMEPAGE", value: "http://www.apple.com" }],
  addresses: [
    {
      label: "WORK",
      street: "1 Infinite Loop",
      city: "Cupertino",
      state: "CA",
      postal_code: "95014",
      country: "United States",
      country_code: "us",
    },
  ],
  photo: true,
};
const YEARLESS = { id: "YEARLESS-1", first_name: "Ólöf", last_name: "Jónsdóttir", birthday: "1604-12-24" };

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "book@example.com",
      password: "pw",
      dsid: DSID,
      mfa: { kind: "none" },
      contacts: { people: [JOHN, YEARLESS], generate: { count: 11, seed: 3 } },
    },
    { apple_id: "nobook@example.com", password: "pw", mfa: { kind: "none" } },
  ],
});

let sim: SimulatorHandle;
const sessions = new Map<string, ICloudSession>();

beforeAll(async () => {
  sim = await startSim(scenario, { services: [createContactsRoutes], closeAtCleanup: false });
});
afterAll(async () => {
  await sim?.close();
});

async function session(appleId: string): Promise<ICloudSession> {
  const existing = sessions.get(appleId);
  if (existing) return existing;
  const created = new ICloudSession({ username: appleId, password: "pw", endpoint: sim.url });
  expect((await created.signIn()).state).toBe("active");
  sessions.set(appleId, created);
  return created;
}

const count = (route: string, since: number) =>
  sim
    .requests()
    .slice(since)
    .filter((r) => r.route === route).length;

describe("iCloud Contacts from the contacts web service", () => {
  it("reads the whole address book: co/startup, then co/contacts pages with its tokens", async () => {
    const service = new ContactsService(await session("book@example.com"), { pageSize: 4 });
    const before = sim.requests().length;
    const { cards, tokens } = await service.readAll();
    expect(count("contacts.startup", before)).toBe(1);
    // 13 cards in pages of 4: 4, 4, 4, 1.
    expect(count("contacts.contacts", before)).toBe(4);
    expect(cards).toHaveLength(13);
    expect(tokens.syncToken).toMatch(/S=0$/);
    for (const card of cards) MmeContactSchema.parse(card.contact);
    expect(new Set(cards.map((c) => c.contact.id)).size).toBe(13);

    const john = cards.find((c) => c.contactId === JOHN.id);
    const id = contactItemId(JOHN.id);
    expect(john?.contact).toEqual({
      id,
      data_type: "mme_contacts.contact",
      uid: Buffer.from(JOHN.id).toString("base64"),
      first_name: "John",
      middle_name: "'Gala'",
      last_name: "Appleseed",
      prefix: "Mr.",
      suffix: "Jr.",
      nickname: "John'o",
      records: [
        { type: "Phone", name: "MAIN", value: "1-800-MY-APPLE" },
        { type: "Phone", name: "UK", value: "0800 039 1010" },
        { type: "Email", name: "WORK", value: "john@example.com" },
        { type: "URL", name: "HOMEPAGE", value: "http://www.apple.com" },
        {
          type: "Address",
          name: "WORK",
          Street: "1 Infinite Loop",
          City: "Cupertino",
          State: "CA",
          ZIP: "95014",
          Country: "United States",
          CountryCode: "US",
          SubLocality: null,
          Municipality: null,
        },
      ],
      organisation: "Apple Inc.",
      department: "Marketing",
      jobtitle: "VP Coring",
      birthday: "1976-04-01",
      image: { id: `mme_contact_image://${id}`, data_type: "image", extension: "jpg" },
    });
    expect(cards.find((c) => c.contactId === "YEARLESS-1")?.contact.birthday).toBe("--12-24");
    // Generated people come in several scripts.
    const names = cards.map((c) => `${c.contact.first_name} ${c.contact.last_name}`).join(" ");
    for (const script of [/\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Arabic}/u, /\p{Script=Han}/u])
      expect(names).toMatch(script);
  });

  it("sees an added, a changed and a deleted card with one co/changeset, then nothing more", async () => {
    const service = new ContactsService(await session("book@example.com"));
    const { cards, tokens } = await service.readAll();
    const probe = contactsProbe(DSID);
    const removed = cards.find((c) => c.contactId !== JOHN.id && c.contactId !== "YEARLESS-1")?.contactId ?? "";
    const added = probe.add({ first_name: "Зоя", last_name: "Новикова", birthday: "2001-06-30" });
    probe.change(JOHN.id, { job_title: "SVP Coring" });
    probe.remove(removed);

    const before = sim.requests().length;
    const result = await service.changes(tokens);
    expect(
      sim
        .requests()
        .slice(before)
        .map((r) => r.route),
    ).toEqual(["contacts.changeset"]);
    if (result.kind !== "changes") throw new Error("expected changes");
    expect(result.changed.map((c) => c.contactId).sort()).toEqual([JOHN.id, added].sort());
    expect(result.changed.find((c) => c.contactId === JOHN.id)?.contact.jobtitle).toBe("SVP Coring");
    expect(result.changed.find((c) => c.contactId === added)?.contact).toMatchObject({
      first_name: "Зоя",
      birthday: "2001-06-30",
      image: null,
    });
    expect(result.deleted).toEqual([removed]);
    expect(result.tokens.syncToken).not.toBe(tokens.syncToken);

    const again = await service.changes(result.tokens);
    expect(again).toEqual({ kind: "changes", changed: [], deleted: [], tokens: result.tokens });
  });

  it("reports a refused sync token as expired (the caller reads the book again)", async () => {
    const service = new ContactsService(await session("book@example.com"));
    const { tokens } = await service.readAll();
    contactsProbe(DSID).resetTokens();
    expect(await service.changes(tokens)).toEqual({ kind: "expired" });
    const fresh = await service.readAll();
    expect((await service.changes(fresh.tokens)).kind).toBe("changes");
  });

  it("fetches a profile photo by its URL", async () => {
    const service = new ContactsService(await session("book@example.com"));
    const john = (await service.readAll()).cards.find((c) => c.contactId === JOHN.id);
    const photo = await service.photo(john?.photoUrl ?? "");
    expect(photo.contentType).toBe("image/jpeg");
    expect([...photo.body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...photo.body.subarray(-2)]).toEqual([0xff, 0xd9]);
    await expect(service.photo(`${john?.photoUrl?.split("?")[0]}?sig=forged`)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("re-validates an expired web session (421) and carries on", async () => {
    const service = new ContactsService(await session("book@example.com"));
    const { tokens } = await service.readAll();
    sim.clock.advance(2 * 3_600_000);
    const before = sim.requests().length;
    const result = await service.changes(tokens);
    const seen = sim.requests().slice(before);
    expect(seen.find((r) => r.route === "contacts.changeset")?.status).toBe(421);
    expect(seen.some((r) => r.route === "setup.validate")).toBe(true);
    expect(result.kind).toBe("changes");
  });

  it("says so when the account has Contacts turned off (no contacts webservice)", async () => {
    const transport = await session("nobook@example.com");
    expect(transport.serviceUrl("contacts")).toBeUndefined();
    const service = new ContactsService(transport);
    await expect(service.readAll()).rejects.toMatchObject({
      code: "SERVICE_NOT_AVAILABLE",
      message: NO_CONTACTS_SERVICE_MESSAGE,
    });
  });

  it("tells the user to allow web access when iCloud refuses Contacts (403)", async () => {
    const service = new ContactsService(await session("book@example.com"));
    sim.faults.add({
      endpoint: "contacts.startup",
      kind: "status",
      status: 403,
      body: { errorCode: "ACCESS_DENIED" },
      times: 1,
    });
    await expect(service.readAll()).rejects.toMatchObject({ code: "WEB_ACCESS_DISABLED" });
  });
});
