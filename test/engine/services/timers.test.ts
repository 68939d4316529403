import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CalendarConfigSchema } from "../../../src/engine/services/calendar/config.ts";
import type { CalendarEvents } from "../../../src/engine/services/calendar/events.ts";
import { CalendarRuntime } from "../../../src/engine/services/calendar/runtime.ts";
import { CalendarStateSchema } from "../../../src/engine/services/calendar/state.ts";
import { ContactsConfigSchema } from "../../../src/engine/services/contacts/config.ts";
import type { ContactsEvents } from "../../../src/engine/services/contacts/events.ts";
import { ContactsRuntime } from "../../../src/engine/services/contacts/runtime.ts";
import { ContactsStateSchema } from "../../../src/engine/services/contacts/state.ts";
import type { ServiceContext, ServiceEvents } from "../../../src/engine/services/service-module.ts";
import type { ServiceTransport } from "../../../src/icloud/service-transport.ts";
import { silentLogger } from "../../../src/logger.ts";

/**
 * The timers that move `calendar/next`, `calendar/today` and today's birthdays on without asking
 * iCloud: when the next event ends and at midnight. The clock is faked; the transport refuses to be used.
 */

const noTransport: ServiceTransport = {
  serviceUrl: () => undefined,
  request: () => Promise.reject(new Error("no request expected")),
  download: () => Promise.reject(new Error("no download expected")),
};

function context<C, S, E extends ServiceEvents>(
  config: C,
  state: S,
  emitted: Array<[string, unknown]>,
  saves: { n: number },
) {
  const ctx: ServiceContext<C, S, E> = {
    account: "jane",
    config,
    state,
    transport: noTransport,
    stateDir: "/nonexistent",
    log: silentLogger,
    signal: new AbortController().signal,
    progress: () => undefined,
    emit: (event, payload) => void emitted.push([event, payload]),
    save: async () => {
      saves.n += 1;
    },
    loadFile: async () => null,
    saveFile: async () => undefined,
  };
  return ctx;
}

const event = (id: string, start: string, end: string) => ({
  event: {
    id,
    data_type: "mme_calendar.event" as const,
    calendar_id: "WORK",
    calendar: "Work",
    title: id,
    location: null,
    all_day: false,
    start,
    end,
    time_zone: "UTC",
    recurring: false,
  },
  start_ms: Date.parse(start),
  end_ms: Date.parse(end),
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("timers without requests", () => {
  it("calendar: next moves on when the current event ends, and today at midnight", async () => {
    vi.setSystemTime(new Date("2027-03-29T08:50:00Z"));
    const standup = event("standup", "2027-03-29T09:00:00+00:00", "2027-03-29T09:30:00+00:00");
    const lunch = event("lunch", "2027-03-29T11:00:00+00:00", "2027-03-29T12:00:00+00:00");
    const state = CalendarStateSchema.parse({
      window: { from: "2027-03-29", to: "2027-04-05" },
      events: [standup, lunch],
      next: standup.event,
      today_date: "2027-03-29",
      today: [standup.event, lunch.event],
    });
    const emitted: Array<[string, unknown]> = [];
    const saves = { n: 0 };
    const runtime = new CalendarRuntime(
      context<ReturnType<typeof CalendarConfigSchema.parse>, typeof state, CalendarEvents>(
        CalendarConfigSchema.parse({ time_zone: "UTC" }),
        state,
        emitted,
        saves,
      ),
    );
    await vi.advanceTimersByTimeAsync(39 * 60_000); // 09:29
    expect(emitted).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * 60_000); // 09:31
    expect(emitted).toEqual([["calendar.next", { event: lunch.event }]]);
    await vi.advanceTimersByTimeAsync(3 * 3_600_000); // 12:31
    expect(emitted.at(-1)).toEqual(["calendar.next", { event: null }]);
    await vi.advanceTimersByTimeAsync(12 * 3_600_000); // 00:31 the next day
    expect(emitted.at(-1)).toEqual(["calendar.today", { date: "2027-03-30", events: [] }]);
    expect(runtime.snapshot()).toMatchObject({ next: null, date: "2027-03-30", today: [] });
    expect(saves.n).toBe(emitted.length);
    runtime.close();
  });

  it("contacts: today's birthdays change just after midnight", async () => {
    vi.setSystemTime(new Date(2027, 2, 29, 23, 58));
    const state = ContactsStateSchema.parse({
      count: 2,
      contacts: {
        aaaaaaaaaaaaaaaa: { contact_id: "A", name: "Zoë", birthday: "1990-03-29", photo_url: null },
        bbbbbbbbbbbbbbbb: { contact_id: "B", name: "Анна", birthday: "--03-30", photo_url: null },
      },
      birthdays_date: "2027-03-29",
      birthdays_today: [{ id: "aaaaaaaaaaaaaaaa", name: "Zoë", birthday: "1990-03-29", age: 37 }],
    });
    const emitted: Array<[string, unknown]> = [];
    const runtime = new ContactsRuntime(
      context<ReturnType<typeof ContactsConfigSchema.parse>, typeof state, ContactsEvents>(
        ContactsConfigSchema.parse({ enabled: true }),
        state,
        emitted,
        { n: 0 },
      ),
    );
    await vi.advanceTimersByTimeAsync(60_000); // 23:59
    expect(emitted).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * 60_000); // 00:01
    expect(emitted).toEqual([
      [
        "contacts.birthdays",
        { date: "2027-03-30", contacts: [{ id: "bbbbbbbbbbbbbbbb", name: "Анна", birthday: "--03-30", age: null }] },
      ],
    ]);
    runtime.close();
  });
});
