import { afterEach, describe, expect, it } from "vitest";
import { NO_CONTACTS_SERVICE_MESSAGE } from "../../../../src/icloud/contacts/contacts-service.ts";
import { contactItemId } from "../../../../src/icloud/contacts/map-contact.ts";
import { contactsProbe } from "../../../../src/simulator/contacts/index.ts";
import { cleanUp, type TestAccount } from "../../../support/harness.ts";
import { serviceEngine } from "../../../support/service-engine.ts";

/** The contacts service in the engine against the simulator: state, events, commands, what is logged. */

const DSID = "20000000401";
const ACCOUNT: TestAccount = { appleId: "contacts@example.com", password: "contacts-pw", code: "314159", dsid: DSID };

afterEach(cleanUp);

const pad = (n: number) => String(n).padStart(2, "0");
const now = new Date();
const TODAY = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
const BORN = `1990-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
const OTHER_DAY = now.getMonth() === 5 ? "1985-01-15" : "1985-06-15";

const PEOPLE = [
  {
    id: "C-ZOE",
    first_name: "Zoë",
    last_name: "Lefèvre",
    birthday: BORN,
    phones: [{ label: "MOBILE", value: "+33 6 12 34 56 78" }],
    photo: true,
  },
  {
    id: "C-ANNA",
    first_name: "Анна",
    last_name: "Иванова",
    birthday: OTHER_DAY,
    emails: [{ label: "HOME", value: "anna@example.ru" }],
  },
  { id: "C-KENTA", first_name: "健太", last_name: "佐藤", birthday: `1604-${BORN.slice(5)}` },
];

function contacts(
  settings: Record<string, unknown> = {},
  spec: Record<string, unknown> = { contacts: { people: PEOPLE, generate: { count: 20, seed: 2 } } },
) {
  return serviceEngine({
    account: ACCOUNT,
    id: "book",
    spec,
    settings: { contacts: { enabled: true, schedule: "1d", ...settings } },
    events: ["contacts.birthdays", "contacts.count", "sync.failed"],
  });
}

describe("engine: contacts (mme_contacts.contacts)", () => {
  it("first sync: the count and today's birthdays (names and birthdays only), as events and in the snapshot", async () => {
    const { engine, events } = await contacts();
    const birthdays = [
      { id: contactItemId("C-ZOE"), name: "Zoë Lefèvre", birthday: BORN, age: now.getFullYear() - 1990 },
      { id: contactItemId("C-KENTA"), name: "健太 佐藤", birthday: `--${BORN.slice(5)}`, age: null },
    ].sort((a, b) => a.name.localeCompare(b.name));
    expect(engine.snapshot("book").contacts).toEqual({ count: 23, date: TODAY, birthdays_today: birthdays });
    expect(events.filter((e) => e.name !== "sync.failed")).toEqual([
      { name: "contacts.count", payload: { account: "book", count: 23 } },
      { name: "contacts.birthdays", payload: { account: "book", date: TODAY, contacts: birthdays } },
    ]);
    expect(engine.snapshot("book").state.services.contacts).toMatchObject({
      enabled: true,
      available: true,
      message: null,
    });
  });

  it("a later sync costs one co/changeset and sees added, changed and deleted contacts", async () => {
    const { engine, events, mark, routesSince } = await contacts();
    events.length = 0;
    const probe = contactsProbe(DSID);
    probe.add({ id: "C-NEW", first_name: "Νίκος", last_name: "Γεωργίου", birthday: BORN });
    probe.change("C-ANNA", { birthday: BORN });
    probe.remove("C-ZOE");
    const before = mark();
    await engine.execute("sync", { data_types: ["mme_contacts.contacts"] });
    expect(routesSince(before)).toEqual(["contacts.changeset"]);
    const names = engine.snapshot("book").contacts.birthdays_today.map((b) => b.name);
    expect(names).toEqual(["Νίκος Γεωργίου", "Анна Иванова", "健太 佐藤"].sort((a, b) => a.localeCompare(b)));
    expect(events.map((e) => e.name)).toEqual(["contacts.birthdays"]);

    // Nothing changed: one request, no events.
    events.length = 0;
    const quiet = mark();
    await engine.execute("sync", { data_types: ["mme_contacts.contacts"] });
    expect(routesSince(quiet)).toEqual(["contacts.changeset"]);
    expect(events).toEqual([]);
  });

  it("reads the whole book again when Apple refuses the stored sync token", async () => {
    const { engine, mark, routesSince } = await contacts();
    contactsProbe(DSID).resetTokens();
    contactsProbe(DSID).remove("C-KENTA");
    const before = mark();
    await engine.execute("sync", { data_types: ["mme_contacts.contacts"] });
    expect(routesSince(before)).toEqual(["contacts.changeset", "contacts.startup", "contacts.contacts"]);
    expect(engine.snapshot("book").contacts.count).toBe(22);
  });

  it("list_contacts returns the address book; contact_image a profile photo's bytes", async () => {
    const { engine } = await contacts();
    const { contacts: book } = await engine.execute("list_contacts", {});
    expect(book).toHaveLength(23);
    const zoe = book.find((c) => c.first_name === "Zoë");
    expect(zoe?.records).toEqual([{ type: "Phone", name: "MOBILE", value: "+33 6 12 34 56 78" }]);
    const image = await engine.execute("contact_image", { file: zoe?.image?.id ?? "" });
    expect(image).toMatchObject({ id: zoe?.image?.id, content_type: "image/jpeg", extension: "jpg" });
    expect(Buffer.from(image.data, "base64").subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    await expect(
      engine.execute("contact_image", { file: "mme_contact_image://0000000000000000" }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("never logs contact details", async () => {
    const { engine, log } = await contacts();
    await engine.execute("list_contacts", {});
    contactsProbe(DSID).add({ first_name: "Secretname", phones: [{ label: "MOBILE", value: "+49 151 99887766" }] });
    await engine.execute("sync", { data_types: ["mme_contacts.contacts"] });
    expect(log.lines.length).toBeGreaterThan(0);
    for (const detail of [
      "Zoë",
      "Lefèvre",
      "Анна",
      "佐藤",
      "anna@example.ru",
      "+33 6 12",
      "Secretname",
      "99887766",
      BORN,
    ])
      expect(log.text).not.toContain(detail);
  });

  it("an account with Contacts turned off: unavailable with the reason, no sync.failed", async () => {
    const { engine, events } = await contacts({}, {});
    expect(engine.snapshot("book").state.services.contacts).toMatchObject({
      enabled: true,
      available: false,
      message: NO_CONTACTS_SERVICE_MESSAGE,
    });
    expect(events).toEqual([]);
  });
});
