import { afterEach, describe, expect, it } from "vitest";
import { NO_CALENDAR_SERVICE_MESSAGE } from "../../../../src/icloud/calendar/calendar-service.ts";
import { calendarProbe } from "../../../../src/simulator/calendar/index.ts";
import { cleanUp, type TestAccount } from "../../../support/harness.ts";
import { serviceEngine } from "../../../support/service-engine.ts";

/** The calendar service in the engine against the simulator: next/today, ctags, commands. */

const DSID = "20000000501";
const ACCOUNT: TestAccount = { appleId: "calendar@example.com", password: "calendar-pw", code: "161803", dsid: DSID };

afterEach(cleanUp);

/** A UTC wall time `minutes` from now, on the minute (`YYYY-MM-DDTHH:MM`). */
function utcWall(minutes: number): string {
  const t = new Date(Math.floor(Date.now() / 60_000) * 60_000 + minutes * 60_000);
  return t.toISOString().slice(0, 16);
}
const iso = (wall: string) => `${wall}:00+00:00`;
const TODAY = new Date().toISOString().slice(0, 10);

const ONGOING = {
  id: "ONGOING",
  calendar: "Work",
  title: "Planning",
  location: "Room 2",
  start: utcWall(-10),
  duration_minutes: 40,
};
const LATER = { id: "LATER", calendar: "Home", title: "Dinner", start: utcWall(120), duration_minutes: 60 };
const ALL_DAY = { id: "HOLIDAY", calendar: "Home", title: "Holiday", start: TODAY };

function calendar(spec: Record<string, unknown> | null = { events: [ONGOING, LATER, ALL_DAY] }) {
  return serviceEngine({
    account: ACCOUNT,
    id: "cal",
    spec: spec === null ? {} : { calendar: { time_zone: "UTC", ...spec } },
    settings: { calendar: { enabled: true, schedule: "15m", time_zone: "UTC", days_ahead: 3 } },
    events: ["calendar.next", "calendar.today", "sync.failed"],
  });
}

describe("engine: calendar (mme_calendar.events)", () => {
  it("first sync: the next timed event (ongoing counts) and today's events", async () => {
    const { engine, events } = await calendar();
    const next = {
      id: "ONGOING",
      data_type: "mme_calendar.event",
      calendar_id: expect.any(String),
      calendar: "Work",
      title: "Planning",
      location: "Room 2",
      all_day: false,
      start: iso(ONGOING.start),
      end: iso(utcWall(30)),
      time_zone: "UTC",
      recurring: false,
    };
    const snapshot = engine.snapshot("cal").calendar;
    expect(snapshot.next).toEqual(next);
    expect(snapshot.date).toBe(TODAY);
    expect(snapshot.today.map((e) => e.id)).toEqual(expect.arrayContaining(["HOLIDAY", "ONGOING"]));
    expect(snapshot.today.find((e) => e.id === "HOLIDAY")).toMatchObject({
      all_day: true,
      start: TODAY,
      time_zone: null,
    });
    expect(snapshot.calendars.map((c) => c.title)).toEqual(["Home", "Work"]);
    expect(events.map((e) => e.name)).toEqual(["calendar.next", "calendar.today"]);
    expect(events[0]?.payload).toEqual({ account: "cal", event: next });
  });

  it("an unchanged account costs one ca/startup; a change (new ctag) one ca/events more", async () => {
    const { engine, events, mark, routesSince } = await calendar();
    events.length = 0;
    const quiet = mark();
    await engine.execute("sync", { data_types: ["mme_calendar.events"] });
    expect(routesSince(quiet)).toEqual(["calendar.startup"]);
    expect(events).toEqual([]);

    calendarProbe(DSID).remove("ONGOING");
    const changed = mark();
    await engine.execute("sync", { data_types: ["mme_calendar.events"] });
    expect(routesSince(changed)).toEqual(["calendar.startup", "calendar.events"]);
    expect(engine.snapshot("cal").calendar.next?.id).toBe("LATER");
    expect(events.find((e) => e.name === "calendar.next")?.payload).toMatchObject({ event: { id: "LATER" } });

    // Moving the later event sooner is seen the same way.
    calendarProbe(DSID).change("LATER", { title: "Early dinner" });
    await engine.execute("sync", { data_types: ["mme_calendar.events"] });
    expect(engine.snapshot("cal").calendar.next?.title).toBe("Early dinner");
  });

  it("with no timed event left, next is null", async () => {
    const { engine } = await calendar({ events: [ALL_DAY] });
    expect(engine.snapshot("cal").calendar).toMatchObject({ next: null, date: TODAY });
    expect(engine.snapshot("cal").calendar.today.map((e) => e.id)).toEqual(["HOLIDAY"]);
  });

  it("list_events reads any range, recurring events expanded across a DST change", async () => {
    const { engine } = await calendar({
      events: [
        {
          id: "W",
          title: "Weekly",
          start: "2027-03-22T09:00",
          time_zone: "Europe/Berlin",
          repeat: { freq: "weekly", count: 2 },
        },
      ],
    });
    const { events } = await engine.execute("list_events", { from: "2027-03-20", to: "2027-04-02" });
    expect(events.map((e) => [e.id, e.start])).toEqual([
      ["W*20270322T090000", "2027-03-22T09:00:00+01:00"],
      ["W*20270329T090000", "2027-03-29T09:00:00+02:00"],
    ]);
    await expect(engine.execute("list_events", { from: "2027-01-01", to: "2028-06-01" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });

  it("an account with Calendars turned off: unavailable with the reason, no sync.failed", async () => {
    const { engine, events } = await calendar(null);
    expect(engine.snapshot("cal").state.services.calendar).toMatchObject({
      enabled: true,
      available: false,
      message: NO_CALENDAR_SERVICE_MESSAGE,
    });
    expect(events).toEqual([]);
  });
});
