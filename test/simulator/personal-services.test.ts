import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ICloudSession } from "../../src/icloud/session.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../../src/simulator/service-modules.ts";
import { startSim } from "../support/harness.ts";
import { TEST_SCENARIO } from "../support/idmsa-client.ts";

/**
 * The simulator's Contacts, Calendar and Notes as the public clients call them (timlaing/pyicloud's
 * request sequences), over real HTTP with a signed-in session as the transport.
 */

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "all@example.com",
      password: "pw",
      dsid: "10000000901",
      mfa: { kind: "none" },
      contacts: { generate: { count: 7, seed: 1 } },
      calendar: { time_zone: "Europe/Paris", generate: {} },
      notes: { folders: ["Notes", "Travel"], generate: { count: 4, seed: 1 } },
    },
    { apple_id: "none@example.com", password: "pw", dsid: "10000000902", mfa: { kind: "none" } },
  ],
});

let sim: SimulatorHandle;
const sessions: ICloudSession[] = [];

beforeAll(async () => {
  sim = await startSim(scenario, { closeAtCleanup: false });
});
afterAll(async () => {
  await sim?.close();
});

async function session(appleId: string): Promise<ICloudSession> {
  const created = new ICloudSession({ username: appleId, password: "pw", endpoint: sim.url });
  expect((await created.signIn()).state).toBe("active");
  sessions.push(created);
  return created;
}

describe("simulated Contacts, Calendar and Notes", () => {
  it("advertises contacts and calendar only for accounts with those sections; CloudKit always", async () => {
    const all = await session("all@example.com");
    expect(all.serviceUrl("contacts")).toBe(sim.url);
    expect(all.serviceUrl("calendar")).toBe(sim.url);
    const none = await session("none@example.com");
    expect(none.serviceUrl("contacts")).toBeUndefined();
    expect(none.serviceUrl("calendar")).toBeUndefined();
    expect(none.serviceUrl("ckdatabasews")).toBe(sim.url);
  });

  it("pyicloud's contacts sequence: co/startup, then co/contacts with its tokens and limit=0 (everything)", async () => {
    const s = await session("all@example.com");
    const query = { clientVersion: "2.1", locale: "en_US", order: "last,first" };
    const startup = await s.request("contacts", "/co/startup", { query });
    expect(startup.status).toBe(200);
    const { prefToken, syncToken, contacts } = startup.json as {
      prefToken: string;
      syncToken: string;
      contacts: unknown[];
    };
    expect(contacts).toHaveLength(7);
    const all = await s.request("contacts", "/co/contacts", {
      query: { ...query, prefToken, syncToken, limit: "0", offset: "0" },
    });
    expect((all.json as { contacts: unknown[] }).contacts).toHaveLength(7);
  });

  it("pyicloud's calendar calls: ca/startup and ca/allcollections list calendars, ca/events defaults to this month", async () => {
    const s = await session("all@example.com");
    const startup = await s.request("calendar", "/ca/startup", { query: { lang: "en-us", usertz: "Europe/Paris" } });
    expect((startup.json as { Collection: Array<{ title: string }> }).Collection.map((c) => c.title)).toEqual([
      "Home",
      "Work",
    ]);
    const all = await s.request("calendar", "/ca/allcollections", { query: { lang: "en-us", usertz: "Europe/Paris" } });
    expect((all.json as { Collection: unknown[] }).Collection).toHaveLength(2);
    const events = await s.request("calendar", "/ca/events", { query: { lang: "en-us", usertz: "Europe/Paris" } });
    const list = (events.json as { Event: Array<{ startDate: unknown[]; tz: string; pGuid: string }> }).Event;
    expect(list.length).toBeGreaterThan(5);
    for (const event of list) expect(event.startDate).toHaveLength(7);
  });

  it("pyicloud's Notes calls: folders via SearchIndexes parentless, recents newest first, lookup by name", async () => {
    const s = await session("all@example.com");
    const base = "/database/1/com.apple.notes/production/private";
    const post = (path: string, body: unknown) =>
      s.request("ckdatabasews", `${base}${path}`, { method: "POST", body, query: { remapEnums: "true" } });
    const index = (name: string) => ({
      query: {
        recordType: "SearchIndexes",
        filterBy: [{ comparator: "EQUALS", fieldName: "indexName", fieldValue: { type: "STRING", value: name } }],
      },
      zoneID: { zoneName: "Notes" },
      resultsLimit: 200,
    });
    const folders = (await post("/records/query", index("parentless"))).json as {
      records: Array<{ recordType: string; fields: { TitleEncrypted: { value: string } } }>;
    };
    const titles = folders.records.map((r) => Buffer.from(r.fields.TitleEncrypted.value, "base64").toString("utf8"));
    expect(titles.sort()).toEqual(["Notes", "Travel"]);
    const recents = (await post("/records/query", index("recents"))).json as {
      records: Array<{ recordName: string; fields: { ModificationDate: { value: number } } }>;
    };
    const dates = recents.records.map((r) => r.fields.ModificationDate.value);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    const first = recents.records[0]?.recordName ?? "";
    const lookup = (await post("/records/lookup", { records: [{ recordName: first }] })).json as {
      records: Array<{ recordName: string }>;
    };
    expect(lookup.records.map((r) => r.recordName)).toEqual([first]);
  });

  it("the test scenario's organised@example.com has written-out contacts, events and notes", async () => {
    const file = await startSimulator({ scenario: TEST_SCENARIO, port: 0, services: [...SIMULATOR_SERVICES] });
    try {
      const s = new ICloudSession({ username: "organised@example.com", password: "organised", endpoint: file.url });
      expect((await s.signIn()).state).toBe("active");
      const contacts = await s.request("contacts", "/co/startup", {});
      expect((contacts.json as { contacts: unknown[] }).contacts).toHaveLength(3);
      const events = await s.request("calendar", "/ca/events", {
        query: { usertz: "America/Los_Angeles", startDate: "2027-03-08", endDate: "2027-03-21" },
      });
      // Ten weekday stand-ups and the spring break.
      expect((events.json as { Event: unknown[] }).Event).toHaveLength(11);
      const notes = await s.request("ckdatabasews", "/database/1/com.apple.notes/production/private/changes/zone", {
        method: "POST",
        body: { zones: [{ zoneID: { zoneName: "Notes" }, desiredRecordTypes: ["Note", "PasswordProtectedNote"] }] },
      });
      const records = (notes.json as { zones: Array<{ records: Array<{ recordType: string }> }> }).zones[0]?.records;
      expect(records?.map((r) => r.recordType).sort()).toEqual(["Note", "PasswordProtectedNote"]);
    } finally {
      await file.close();
    }
  });

  it("refuses an invalid section when it starts, naming the account", async () => {
    const bad = parseScenario({
      accounts: [{ apple_id: "bad@example.com", password: "pw", calendar: { time_zone: "Nowhere/Land" } }],
    });
    await expect(startSimulator({ scenario: bad, port: 0, services: [...SIMULATOR_SERVICES] })).rejects.toThrow(
      /calendar section for bad@example.com/,
    );
  });
});
