import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { SAFARI_NOT_AVAILABLE_MESSAGE } from "../../src/engine/services/safari/index.ts";
import { FakeEngine } from "../../src/testing/fake-engine.ts";
import { FAKE_ASSET, FAKE_JPEG, fakeAccountState, fakeDevice } from "../../src/testing/fixtures.ts";
import { type Harness, readyState, startHarness, TOKEN } from "../support/http.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function get(path: string, headers: Record<string, string> = {}) {
  if (!h) throw new Error("no harness");
  const res = await request(h.url + path, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, type: String(res.headers["content-type"]), body };
}

/** The dashboard card item of a fake device (located, not charging, online). */
function deviceItem(id: string, name: string, battery: number) {
  return {
    id,
    title: name,
    subtitle: "iPhone 15 Pro",
    facts: [
      { label: "Battery", value: battery, format: "percent" },
      { label: "Battery state", value: "not charging" },
      { label: "Last located", value: "2026-01-01T10:00:00Z", format: "time" },
      { label: "Accuracy", value: 35, format: "distance" },
    ],
    badges: [],
    location: { latitude: 52.37, longitude: 4.89, accuracy: 35 },
    buttons: [
      { label: "Play sound", command: "play_sound", input: { device: id }, confirm: `Play a sound on ${name}?` },
      { label: "Locate", command: "locate", input: { device: id } },
    ],
  };
}

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  if (!h) throw new Error("no harness");
  const res = await request(h.url + path, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe("GET /api/services (each enabled service's view)", () => {
  it("shows the enabled services' status and data, the newest photo's thumbnail as a file", async () => {
    h = await startHarness();
    h.engine.setSnapshot("main", {
      findmy: { devices: [fakeDevice("d2", "Zoe's iPad"), fakeDevice("d1", "Adam's iPhone", 40)] },
      photos: { latest: { asset: FAKE_ASSET, thumbnail: FAKE_JPEG }, count: 3, backfill: null },
    });
    const res = await get("api/services");
    expect(res.status).toBe(200);
    const status = readyState("main").services;
    // calls is disabled for the HTTP tests' accounts: it is left out.
    expect(JSON.parse(res.body.toString("utf8"))).toEqual({
      account: "main",
      services: {
        findmy: {
          title: "Find My",
          data_type: "fmip.devices",
          status: status.findmy,
          devices: [fakeDevice("d1", "Adam's iPhone", 40), fakeDevice("d2", "Zoe's iPad")],
          card: {
            itemsTitle: "Devices",
            empty: "No devices yet.",
            items: [deviceItem("d1", "Adam's iPhone", 40), deviceItem("d2", "Zoe's iPad", 80)],
          },
        },
        photos: {
          title: "Photos",
          data_type: "icpl.photos",
          status: status.photos,
          latest: FAKE_ASSET,
          has_thumbnail: true,
          count: 3,
          backfill: null,
          card: {
            facts: [
              { label: "Photos", value: 3, format: "number" },
              { label: "Latest", value: "IMG_0001.HEIC" },
              { label: "Taken", value: "2026-01-01T08:00:00Z", format: "time" },
            ],
            image: { file: "latest-thumbnail.jpg", alt: "Latest photo: IMG_0001.HEIC", version: "asset-1" },
            empty: "No photo yet.",
          },
        },
      },
    });
    const thumbnail = await get("api/services/photos/latest-thumbnail.jpg?account=main");
    expect(thumbnail).toMatchObject({ status: 200, type: "image/jpeg" });
    expect(thumbnail.body.equals(FAKE_JPEG)).toBe(true);
    expect((await get("api/services/photos/latest-thumbnail.jpg?account=family")).status).toBe(404);
    expect((await get("api/services?account=nobody")).status).toBe(404);
  });

  it("shows contacts (count, today's birthdays), calendar (next, today) and notes (count, recent titles)", async () => {
    const services = {
      findmy: false,
      photos: false,
      calls: false,
      contacts: true,
      calendar: true,
      notes: true,
      safari: true,
    };
    const engine = new FakeEngine([{ id: "home", services }]);
    h = await startHarness({ engine });
    const event = {
      id: "EV-1",
      data_type: "mme_calendar.event" as const,
      calendar_id: "WORK",
      calendar: "Work",
      title: "Stand-up",
      location: null,
      all_day: false,
      start: "2027-03-29T09:00:00+02:00",
      end: "2027-03-29T09:15:00+02:00",
      time_zone: "Europe/Berlin",
      recurring: true,
    };
    const note = {
      id: "N-1",
      data_type: "mme_notes.note" as const,
      title: "Packing list",
      folder: "Notes",
      folder_id: "F-1",
      created: null,
      modified: "2027-03-29T07:00:00.000Z",
      locked: false,
      text: null,
      attachments: [],
    };
    const birthday = { id: "0123456789abcdef", name: "Zoë Lefèvre", birthday: "1990-03-29", age: 37 };
    engine.setSnapshot("home", {
      contacts: { count: 12, date: "2027-03-29", birthdays_today: [birthday] },
      calendar: { next: event, date: "2027-03-29", today: [event], calendars: [{ id: "WORK", title: "Work" }] },
      notes: { count: 4, recent: [note] },
      safari: { available: false, reason: SAFARI_NOT_AVAILABLE_MESSAGE },
    });
    const res = await get("api/services?account=home");
    expect(res.status).toBe(200);
    const status = fakeAccountState("home", { services }).services;
    expect(JSON.parse(res.body.toString("utf8"))).toEqual({
      account: "home",
      services: {
        contacts: {
          title: "Contacts",
          data_type: "mme_contacts.contacts",
          status: status.contacts,
          count: 12,
          date: "2027-03-29",
          birthdays_today: [birthday],
          card: {
            facts: [{ label: "Contacts", value: 12, format: "number" }],
            itemsTitle: "Birthdays today",
            items: [{ id: birthday.id, title: "Zoë Lefèvre", subtitle: "turns 37" }],
            empty: "No birthdays today.",
          },
        },
        calendar: {
          title: "Calendar",
          data_type: "mme_calendar.events",
          status: status.calendar,
          next: event,
          date: "2027-03-29",
          today: [event],
          calendars: [{ id: "WORK", title: "Work" }],
          card: {
            facts: [
              { label: "Next", value: "Stand-up" },
              { label: "Starts", value: event.start, format: "time" },
              { label: "Events today", value: 1, format: "number" },
            ],
            itemsTitle: "Today",
            items: [
              {
                id: "EV-1",
                title: "Stand-up",
                subtitle: "Work",
                facts: [
                  { label: "Starts", value: event.start, format: "time" },
                  { label: "Ends", value: event.end, format: "time" },
                ],
                badges: [{ text: "Repeats", tone: "muted" }],
              },
            ],
            empty: "Nothing on the calendar today.",
          },
        },
        notes: {
          title: "Notes",
          data_type: "mme_notes.notes",
          status: status.notes,
          count: 4,
          recent: [note],
          card: {
            facts: [{ label: "Notes", value: 4, format: "number" }],
            itemsTitle: "Recently changed",
            items: [
              {
                id: "N-1",
                title: "Packing list",
                subtitle: "Notes",
                facts: [{ label: "Changed", value: note.modified, format: "time" }],
                badges: [],
              },
            ],
            empty: "No notes yet.",
          },
        },
        safari: {
          title: "Safari history",
          data_type: "cloudkit_safari.history",
          status: status.safari,
          available: false,
          reason: SAFARI_NOT_AVAILABLE_MESSAGE,
          card: { empty: SAFARI_NOT_AVAILABLE_MESSAGE },
        },
      },
    });
  });

  it("needs the token when one is configured", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    expect((await get("api/services")).status).toBe(401);
    expect((await get("api/services/photos/latest-thumbnail.jpg")).status).toBe(401);
    expect((await get("api/services", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe("POST /api/services/<service>/<command> (the cards' buttons)", () => {
  it("runs the service's own commands for the account, validated by the engine", async () => {
    h = await startHarness();
    h.engine.setSnapshot("family", { findmy: { devices: [fakeDevice("d1", "Adam's iPhone")] } });
    const sound = await post("api/services/findmy/play_sound?account=family", JSON.stringify({ device: "d1" }));
    expect(sound).toEqual({ status: 200, json: { message: "play_sound done", result: { device: "d1" } } });
    // The account comes from the query, never from the body.
    expect(h.engine.executed).toEqual([{ command: "play_sound", input: { account: "family", device: "d1" } }]);
    expect((await post("api/services/findmy/play_sound?account=family", "{}")).status).toBe(400);
    expect((await post("api/services/findmy/play_sound", "[1]")).status).toBe(400);
    expect((await post("api/services/findmy/play_sound", "{oops")).status).toBe(400);
    expect((await post("api/services/findmy/play_sound", JSON.stringify({ device: "nobody" }))).status).toBe(404);
    // Only a service's own commands, and never the sign-in ones.
    expect((await post("api/services/photos/play_sound", JSON.stringify({ device: "d1" }))).status).toBe(404);
    expect((await post("api/services/findmy/mfa", JSON.stringify({ code: "123456" }))).status).toBe(404);
    expect((await post("api/services/findmy/play_sound", "{}", { origin: "https://evil.example" })).status).toBe(403);
  });

  it("needs the token when one is configured", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    expect((await post("api/services/findmy/locate", "{}")).status).toBe(401);
    expect(h.engine.executed).toEqual([]);
  });
});

describe("the dashboard's map", () => {
  it("serves Leaflet from the installed package and lets only the dashboard load the configured tiles", async () => {
    h = await startHarness();
    const page = await request(`${h.url}`);
    await page.body.dump();
    expect(String(page.headers["content-security-policy"])).toContain(
      "img-src 'self' data: https://tile.openstreetmap.org;",
    );
    const mfa = await request(`${h.url}mfa`);
    await mfa.body.dump();
    expect(String(mfa.headers["content-security-policy"])).toContain("img-src 'self' data:;");
    const leaflet = await get("vendor/leaflet.esm.js");
    expect(leaflet).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8" });
    expect(leaflet.body.toString("utf8")).toContain("export {");
    expect((await get("vendor/leaflet.css")).status).toBe(200);
    expect((await get("vendor/../package.json")).status).toBe(404);
  });

  it("without tiles: no map, no foreign image origin", async () => {
    h = await startHarness({ http: { map: { tiles: null, attribution: "" } } });
    const page = await get("");
    expect(page.body.toString("utf8")).toContain('<meta name="map-tiles" content="">');
    const res = await request(h.url);
    await res.body.dump();
    expect(String(res.headers["content-security-policy"])).toContain("img-src 'self' data:;");
  });
});
