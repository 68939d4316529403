import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CalendarService, NO_CALENDAR_SERVICE_MESSAGE } from "../../../src/icloud/calendar/calendar-service.ts";
import { MmeCalendarEventSchema } from "../../../src/icloud/calendar/types.ts";
import { ICloudSession } from "../../../src/icloud/session.ts";
import { calendarProbe, createCalendarRoutes } from "../../../src/simulator/calendar/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { startSim } from "../../support/harness.ts";

/** The calendar client against the simulator's Calendar web service over real HTTP; nothing is mocked. */

const DSID = "10000000201";
const BERLIN = "Europe/Berlin";

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "cal@example.com",
      password: "pw",
      dsid: DSID,
      mfa: { kind: "none" },
      calendar: {
        time_zone: BERLIN,
        calendars: [
          { id: "HOME", title: "Home" },
          { id: "WORK", title: "Work" },
        ],
        events: [
          // Europe changes to summer time on 28 March 2027: 09:00 stays 09:00, the offset moves.
          {
            id: "WEEKLY",
            calendar: "Work",
            title: "Weekly sync",
            location: "Room 1",
            start: "2027-03-15T09:00",
            duration_minutes: 30,
            repeat: { freq: "weekly", count: 4 },
          },
          // The US changes on 14 March 2027; the event keeps its own zone.
          {
            id: "NY",
            calendar: "Work",
            title: "Call with New York",
            start: "2027-03-04T10:00",
            duration_minutes: 60,
            time_zone: "America/New_York",
            repeat: { freq: "weekly", by_day: ["TH"], count: 3 },
          },
          { id: "EASTER", calendar: "Home", title: "Easter holiday", start: "2027-03-26", end: "2027-03-29" },
          { id: "BDAY", calendar: "Home", title: "Mum's birthday 🎂", start: "2020-03-27", repeat: { freq: "yearly" } },
          // Through the night the clocks go forward: four hours, ending at 04:00 summer time.
          { id: "NIGHT", calendar: "Home", title: "Night train", start: "2027-03-27T23:00", duration_minutes: 240 },
        ],
      },
    },
    { apple_id: "nocal@example.com", password: "pw", mfa: { kind: "none" } },
  ],
});

let sim: SimulatorHandle;
const sessions = new Map<string, ICloudSession>();

beforeAll(async () => {
  sim = await startSim(scenario, { services: [createCalendarRoutes], closeAtCleanup: false });
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

const MARCH = { from: "2027-03-01", to: "2027-04-06" };

describe("iCloud Calendar from the calendar web service", () => {
  it("lists the calendars with their ctags from ca/startup", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    const calendars = await service.calendars(BERLIN, "2027-03-01");
    expect(calendars).toEqual([
      { id: "HOME", title: "Home", color: "#1badf8", read_only: false, ctag: "FT=-@RU=HOME@S=1" },
      { id: "WORK", title: "Work", color: "#1badf8", read_only: false, ctag: "FT=-@RU=WORK@S=1" },
    ]);
  });

  it("expands recurring events in their own zone across DST changes, all-day events as dates", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    const calendars = await service.calendars(BERLIN, "2027-03-01");
    const events = (await service.events(MARCH, BERLIN, calendars)).map((p) => p.event);
    for (const event of events) MmeCalendarEventSchema.parse(event);
    const short = events.map((e) => [e.id, e.start, e.end, e.time_zone]);
    expect(short).toEqual([
      ["NY*20270304T100000", "2027-03-04T10:00:00-05:00", "2027-03-04T11:00:00-05:00", "America/New_York"],
      ["NY*20270311T100000", "2027-03-11T10:00:00-05:00", "2027-03-11T11:00:00-05:00", "America/New_York"],
      ["WEEKLY*20270315T090000", "2027-03-15T09:00:00+01:00", "2027-03-15T09:30:00+01:00", BERLIN],
      ["NY*20270318T100000", "2027-03-18T10:00:00-04:00", "2027-03-18T11:00:00-04:00", "America/New_York"],
      ["WEEKLY*20270322T090000", "2027-03-22T09:00:00+01:00", "2027-03-22T09:30:00+01:00", BERLIN],
      ["EASTER", "2027-03-26", "2027-03-30", null],
      ["BDAY*20270327", "2027-03-27", "2027-03-28", null],
      ["NIGHT", "2027-03-27T23:00:00+01:00", "2027-03-28T04:00:00+02:00", BERLIN],
      ["WEEKLY*20270329T090000", "2027-03-29T09:00:00+02:00", "2027-03-29T09:30:00+02:00", BERLIN],
      ["WEEKLY*20270405T090000", "2027-04-05T09:00:00+02:00", "2027-04-05T09:30:00+02:00", BERLIN],
    ]);
    expect(events.find((e) => e.id === "WEEKLY*20270329T090000")).toEqual({
      id: "WEEKLY*20270329T090000",
      data_type: "mme_calendar.event",
      calendar_id: "WORK",
      calendar: "Work",
      title: "Weekly sync",
      location: "Room 1",
      all_day: false,
      start: "2027-03-29T09:00:00+02:00",
      end: "2027-03-29T09:30:00+02:00",
      time_zone: BERLIN,
      recurring: true,
    });
    expect(events.find((e) => e.id === "EASTER")).toMatchObject({ all_day: true, recurring: false, location: null });
  });

  it("asks in the user's zone: the same instants, all-day events keep their dates", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    const calendars = await service.calendars("America/New_York", "2027-03-01");
    const events = (await service.events(MARCH, "America/New_York", calendars)).map((p) => p.event);
    expect(events.find((e) => e.id === "NIGHT")).toMatchObject({ start: "2027-03-27T23:00:00+01:00" });
    expect(events.find((e) => e.id === "EASTER")).toMatchObject({ start: "2027-03-26", end: "2027-03-30" });
  });

  it("reads only the asked days (one day)", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    const calendars = await service.calendars(BERLIN, "2027-03-27");
    const events = await service.events({ from: "2027-03-27", to: "2027-03-27" }, BERLIN, calendars);
    expect(events.map((p) => p.event.id)).toEqual(["EASTER", "BDAY*20270327", "NIGHT"]);
  });

  it("changes the ctag of a calendar when one of its events changes, and only that one", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    const before = await service.calendars(BERLIN, "2027-03-01");
    const probe = calendarProbe(DSID);
    const added = probe.add({ calendar: "Home", title: "Piano lesson", start: "2027-03-10T17:00" });
    let after = await service.calendars(BERLIN, "2027-03-01");
    expect(after.find((c) => c.id === "HOME")?.ctag).not.toBe(before.find((c) => c.id === "HOME")?.ctag);
    expect(after.find((c) => c.id === "WORK")?.ctag).toBe(before.find((c) => c.id === "WORK")?.ctag);
    const events = await service.events(MARCH, BERLIN, after);
    expect(events.find((p) => p.event.id === added)?.event).toMatchObject({
      title: "Piano lesson",
      start: "2027-03-10T17:00:00+01:00",
      end: "2027-03-10T18:00:00+01:00",
    });
    probe.remove(added);
    after = await service.calendars(BERLIN, "2027-03-01");
    expect((await service.events(MARCH, BERLIN, after)).some((p) => p.event.id === added)).toBe(false);
  });

  it("re-validates an expired web session (421) and carries on", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    sim.clock.advance(2 * 3_600_000);
    const before = sim.requests().length;
    expect(await service.calendars(BERLIN, "2027-03-01")).toHaveLength(2);
    const seen = sim.requests().slice(before);
    expect(seen.find((r) => r.route === "calendar.startup")?.status).toBe(421);
    expect(seen.some((r) => r.route === "setup.validate")).toBe(true);
  });

  it("says so when the account has Calendars turned off (no calendar webservice)", async () => {
    const transport = await session("nocal@example.com");
    expect(transport.serviceUrl("calendar")).toBeUndefined();
    await expect(new CalendarService(transport).calendars(BERLIN, "2027-03-01")).rejects.toMatchObject({
      code: "SERVICE_NOT_AVAILABLE",
      message: NO_CALENDAR_SERVICE_MESSAGE,
    });
  });

  it("tells the user to allow web access when iCloud refuses Calendar (403)", async () => {
    const service = new CalendarService(await session("cal@example.com"));
    sim.faults.add({ endpoint: "calendar.events", kind: "status", status: 403, body: {}, times: 1 });
    await expect(service.events(MARCH, BERLIN, [])).rejects.toMatchObject({ code: "WEB_ACCESS_DISABLED" });
  });
});
