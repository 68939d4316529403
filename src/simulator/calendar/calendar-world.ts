import { createHash } from "node:crypto";
import { addDays, isoDateOf, startOfDay, type WallTime, wallTime, wallToUtc } from "../../icloud/calendar/time-zone.ts";
import { generateEvents } from "./generate.ts";
import { type CalendarScenario, type Repeat, type ScenarioEvent, WEEKDAYS } from "./scenario.ts";

export interface SimCalendar {
  guid: string;
  title: string;
  color: string;
  /** Bumped whenever one of its events changes; the `ctag` names it. */
  seq: number;
}

export interface SimEvent {
  guid: string;
  calendarGuid: string;
  title: string;
  location: string | undefined;
  allDay: boolean;
  zone: string;
  /** First occurrence: the local start (all-day: the first day at 00:00). */
  start: WallTime;
  /** Timed: minutes; all-day: whole days. */
  length: number;
  repeat: Repeat | undefined;
  version: number;
  createdAt: number;
  modifiedAt: number;
}

/** One occurrence of an event in a date range. */
export interface Occurrence {
  event: SimEvent;
  /** `<guid>` for single events, `<guid>*<local start>` for occurrences of a series. */
  guid: string;
  start: WallTime;
  startMs: number;
  endMs: number;
}

const MAX_STEPS = 200_000;

export function uuidFrom(key: string): string {
  const h = createHash("sha256").update(key).digest("hex").toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function parseWall(text: string): WallTime {
  const [date = "", time = "00:00"] = text.split("T");
  const [year = 1970, month = 1, day = 1] = date.split("-").map(Number);
  const [hour = 0, minute = 0] = time.split(":").map(Number);
  return { year, month, day, hour, minute, second: 0 };
}

const dateOf = (w: WallTime) => isoDateOf(w);
const withDate = (w: WallTime, date: string): WallTime => ({
  ...parseWall(date),
  hour: w.hour,
  minute: w.minute,
  second: 0,
});
const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

function addMonths(date: string, months: number): string | undefined {
  const [y = 1970, m = 1, d = 1] = date.split("-").map(Number);
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return d > last ? undefined : isoDateOf({ year, month, day: d });
}

/** The local start dates of a series in order, from its first (unbounded unless `count`/`until` say so). */
function* startDates(first: string, repeat: Repeat | undefined): Generator<string> {
  if (repeat === undefined) {
    yield first;
    return;
  }
  let emitted = 0;
  const done = (date: string) =>
    (repeat.count !== undefined && emitted >= repeat.count) || (repeat.until !== undefined && date > repeat.until);
  for (let k = 0; k < MAX_STEPS; k++) {
    const batch: string[] = [];
    if (repeat.freq === "daily") batch.push(addDays(first, k * repeat.interval));
    else if (repeat.freq === "weekly") {
      const weekStart = addDays(first, -weekday(first) + 7 * k * repeat.interval);
      const days = repeat.by_day ?? [WEEKDAYS[weekday(first)] ?? "MO"];
      for (let i = 0; i < 7; i++) {
        const date = addDays(weekStart, i);
        if (days.includes(WEEKDAYS[i] ?? "SU") && date >= first) batch.push(date);
      }
    } else {
      const date = addMonths(first, (repeat.freq === "monthly" ? 1 : 12) * k * repeat.interval);
      if (date !== undefined) batch.push(date);
    }
    for (const date of batch) {
      if (done(date)) return;
      emitted += 1;
      yield date;
    }
  }
}

/**
 * One account's calendars and events. Series are expanded on request, in each event's own zone
 * (a weekly 09:00 in Berlin stays 09:00 across DST); `ctag`s change with every change to a calendar.
 */
export class CalendarWorld {
  readonly calendars: SimCalendar[];
  readonly #events = new Map<string, SimEvent>();
  readonly #defaultZone: string;
  readonly #dsid: string;
  readonly #clockNow: () => number;
  #added = 0;
  readonly #changeEvery: number | undefined;
  #nextChangeAt: number | undefined;
  #turn = 0;

  constructor(dsid: string, scenario: CalendarScenario, epoch: number, now: () => number) {
    this.#dsid = dsid;
    this.#defaultZone = scenario.time_zone;
    this.#clockNow = now;
    this.calendars = scenario.calendars.map((c, i) => ({
      guid: c.id ?? uuidFrom(`${dsid}:calendar:${i}`),
      title: c.title,
      color: c.color,
      seq: 1,
    }));
    const today = dateOf(wallTime(epoch, scenario.time_zone));
    const generated =
      scenario.generate === undefined
        ? []
        : generateEvents(
            today,
            this.calendars.map((c) => c.title),
          );
    for (const event of [...scenario.events, ...generated]) this.add(event, false);
    this.#changeEvery = scenario.change_every;
    this.#nextChangeAt = scenario.change_every === undefined ? undefined : epoch + scenario.change_every;
  }

  ctag(calendar: SimCalendar): string {
    return `FT=-@RU=${calendar.guid}@S=${calendar.seq}`;
  }

  get(guid: string): SimEvent | undefined {
    return this.#events.get(guid);
  }

  events(): SimEvent[] {
    return [...this.#events.values()];
  }

  add(input: ScenarioEvent, touch = true): string {
    this.#added += 1;
    const calendar = this.#calendarFor(input.calendar);
    const zone = input.time_zone ?? this.#defaultZone;
    const allDay = !input.start.includes("T");
    const start = parseWall(input.start);
    let length: number;
    if (allDay) length = input.end === undefined ? 1 : Math.max(1, daysBetween(input.start, input.end) + 1);
    else if (input.end !== undefined)
      length = Math.max(0, Math.round((wallToUtc(parseWall(input.end), zone) - wallToUtc(start, zone)) / 60_000));
    else length = input.duration_minutes;
    const now = this.#clockNow();
    const event: SimEvent = {
      guid: input.id ?? uuidFrom(`${this.#dsid}:event:${this.#added}`),
      calendarGuid: calendar.guid,
      title: input.title,
      location: input.location,
      allDay,
      zone,
      start,
      length,
      repeat: input.repeat,
      version: 1,
      createdAt: now,
      modifiedAt: now,
    };
    this.#events.set(event.guid, event);
    if (touch) calendar.seq += 1;
    return event.guid;
  }

  /** Changes an event's title, location or times (a new start moves the whole series). */
  change(guid: string, patch: { title?: string; location?: string; start?: string; minutes?: number }): void {
    const event = this.#events.get(guid);
    if (event === undefined) throw new Error(`no event ${guid}`);
    if (patch.title !== undefined) event.title = patch.title;
    if (patch.location !== undefined) event.location = patch.location;
    if (patch.start !== undefined) event.start = parseWall(patch.start);
    if (patch.minutes !== undefined) event.length = patch.minutes;
    event.version += 1;
    event.modifiedAt = this.#clockNow();
    this.#touch(event.calendarGuid);
  }

  remove(guid: string): void {
    const event = this.#events.get(guid);
    if (event === undefined) throw new Error(`no event ${guid}`);
    this.#events.delete(guid);
    this.#touch(event.calendarGuid);
  }

  /** Occurrences overlapping the inclusive dates `from`..`to` as seen in `userTz`, by start. */
  occurrences(from: string, to: string, userTz: string): Occurrence[] {
    const fromMs = startOfDay(from, userTz);
    const toMs = startOfDay(addDays(to, 1), userTz);
    const out: Occurrence[] = [];
    for (const event of this.#events.values()) {
      const first = dateOf(event.start);
      for (const date of startDates(first, event.repeat)) {
        const start = withDate(event.start, date);
        const startMs = event.allDay ? startOfDay(date, userTz) : wallToUtc(start, event.zone);
        if (startMs >= toMs) break;
        const endMs = event.allDay ? startOfDay(addDays(date, event.length), userTz) : startMs + event.length * 60_000;
        if (endMs <= fromMs && !(endMs === startMs && startMs >= fromMs)) continue;
        const stamp = event.allDay
          ? date.replaceAll("-", "")
          : `${date.replaceAll("-", "")}T${String(start.hour).padStart(2, "0")}${String(start.minute).padStart(2, "0")}00`;
        out.push({
          event,
          guid: event.repeat === undefined ? event.guid : `${event.guid}*${stamp}`,
          start,
          startMs,
          endMs,
        });
      }
    }
    return out.sort((a, b) => a.startMs - b.startMs || a.guid.localeCompare(b.guid));
  }

  /** Applies the `change_every` changes the clock has passed: add, move, delete in turn. */
  catchUp(now: number): void {
    if (this.#changeEvery === undefined || this.#nextChangeAt === undefined) return;
    while (this.#nextChangeAt <= now) {
      const turn = this.#turn++;
      const at = wallTime(this.#nextChangeAt + 2 * 3_600_000, this.#defaultZone);
      const singles = this.events().filter((e) => e.repeat === undefined && !e.allDay);
      if (turn % 3 === 0 || singles.length === 0) {
        const start = `${dateOf(at)}T${String(at.hour).padStart(2, "0")}:00`;
        this.add({ title: `New appointment ${turn + 1}`, start, duration_minutes: 30 });
      } else {
        const target = singles[turn % singles.length] as SimEvent;
        if (turn % 3 === 1) this.change(target.guid, { title: `${target.title} (moved)`, minutes: target.length + 15 });
        else this.remove(target.guid);
      }
      this.#nextChangeAt += this.#changeEvery;
    }
  }

  #calendarFor(name: string | undefined): SimCalendar {
    const calendar =
      name === undefined ? this.calendars[0] : this.calendars.find((c) => c.guid === name || c.title === name);
    if (calendar === undefined) throw new Error(`no calendar ${name ?? "(first)"}`);
    return calendar;
  }

  #touch(calendarGuid: string): void {
    const calendar = this.calendars.find((c) => c.guid === calendarGuid);
    if (calendar) calendar.seq += 1;
  }
}
