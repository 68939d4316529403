import { EngineError } from "../../../errors.ts";
import { CalendarService } from "../../../icloud/calendar/calendar-service.ts";
import { addDays, isoDateOf, startOfDay, systemTimeZone, wallTime } from "../../../icloud/calendar/time-zone.ts";
import type { CalendarInfo, DateRange, MmeCalendarEvent } from "../../../icloud/calendar/types.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { CalendarConfig } from "./config.ts";
import type { CalendarEvents, CalendarSnapshot } from "./events.ts";
import type { CalendarState } from "./state.ts";

/** The longest range `list_events` reads at once. */
export const MAX_LIST_DAYS = 366;
/** Timers never wait longer than this (a suspended machine or a clock change is caught up). */
const MAX_TIMER_MS = 3_600_000;

const sameCtags = (a: readonly CalendarInfo[], b: readonly CalendarInfo[]) =>
  a.length === b.length && a.every((c) => b.some((d) => d.id === c.id && d.ctag === c.ctag && c.ctag !== null));

/**
 * iCloud Calendar for one account. Each run asks for the calendars (one `ca/startup`); only when a
 * calendar's `ctag` changed or the window moved to a new day does it read the window's events (one
 * `ca/events`). `next` and `today` are worked out from the stored events, again by a timer when the
 * next event ends and at midnight, without any request.
 */
export class CalendarRuntime implements ServiceRuntime<CalendarSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<CalendarConfig, CalendarState, CalendarEvents>;
  readonly #service: CalendarService;
  readonly #zone: string;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(ctx: ServiceContext<CalendarConfig, CalendarState, CalendarEvents>) {
    this.#ctx = ctx;
    this.#service = new CalendarService(ctx.transport, { log: ctx.log });
    this.#zone = ctx.config.time_zone ?? systemTimeZone();
    this.jobs = [{ name: "calendar", schedule: ctx.config.schedule, run: () => this.#sync() }];
    this.#arm();
  }

  snapshot(): CalendarSnapshot {
    const { state } = this.#ctx;
    return {
      next: state.next,
      date: state.today_date,
      today: state.today,
      calendars: state.calendars.map(({ id, title }) => ({ id, title })),
    };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** Events of a date range (default: today and `days_ahead` after), read now; the stored state is left alone. */
  async list(range: Partial<DateRange>): Promise<MmeCalendarEvent[]> {
    const today = this.#today();
    const from = range.from ?? today;
    const to = range.to ?? addDays(from, this.#ctx.config.days_ahead);
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
    if (days < 0 || days >= MAX_LIST_DAYS)
      throw new EngineError("INVALID_INPUT", `from..to must be 0 to ${MAX_LIST_DAYS - 1} days apart`);
    const calendars = this.#wanted(await this.#service.calendars(this.#zone, today));
    const placed = await this.#service.events({ from, to }, this.#zone, calendars);
    return placed.filter((p) => calendars.some((c) => c.id === p.event.calendar_id)).map((p) => p.event);
  }

  async #sync(): Promise<void> {
    const { state } = this.#ctx;
    const today = this.#today();
    const window = { from: today, to: addDays(today, this.#ctx.config.days_ahead) };
    const calendars = this.#wanted(await this.#service.calendars(this.#zone, today));
    const moved = state.window?.from !== window.from || state.window?.to !== window.to;
    if (moved || !sameCtags(calendars, state.calendars)) {
      const placed = await this.#service.events(window, this.#zone, calendars);
      state.events = placed
        .filter((p) => calendars.some((c) => c.id === p.event.calendar_id))
        .map((p) => ({ event: p.event, start_ms: p.startMs, end_ms: p.endMs }));
      state.window = window;
    }
    state.calendars = calendars;
    await this.#refresh(true);
  }

  #wanted(calendars: CalendarInfo[]): CalendarInfo[] {
    const only = this.#ctx.config.calendars;
    return only.length === 0 ? calendars : calendars.filter((c) => only.includes(c.id) || only.includes(c.title));
  }

  #today(now = Date.now()): string {
    return isoDateOf(wallTime(now, this.#zone));
  }

  /** Works out `next` and `today` from the stored events; saves, then emits what changed. */
  async #refresh(save = false): Promise<void> {
    const { state } = this.#ctx;
    const now = Date.now();
    const date = this.#today(now);
    const dayStart = startOfDay(date, this.#zone);
    const dayEnd = startOfDay(addDays(date, 1), this.#zone);
    const timed = state.events.filter((e) => !e.event.all_day && e.end_ms > now);
    const next = timed[0]?.event ?? null;
    const today = state.events
      .filter(
        (e) => e.start_ms < dayEnd && (e.end_ms > dayStart || (e.end_ms === e.start_ms && e.start_ms >= dayStart)),
      )
      .map((e) => e.event);
    const nextChanged = JSON.stringify(next) !== JSON.stringify(state.next);
    const todayChanged = date !== state.today_date || JSON.stringify(today) !== JSON.stringify(state.today);
    state.next = next;
    state.today_date = date;
    state.today = today;
    if (save || nextChanged || todayChanged) await this.#ctx.save();
    if (nextChanged) this.#ctx.emit("calendar.next", { event: next });
    if (todayChanged) this.#ctx.emit("calendar.today", { date, events: today });
    this.#arm();
  }

  /** Wakes up when the next event ends or the day changes, whichever comes first. */
  #arm(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const { state } = this.#ctx;
    if (state.today_date === null) return;
    const now = Date.now();
    const boundaries = [startOfDay(addDays(this.#today(now), 1), this.#zone)];
    const next = state.events.find((e) => !e.event.all_day && e.end_ms > now);
    if (next !== undefined) boundaries.push(next.end_ms);
    const delay = Math.min(Math.max(0, Math.min(...boundaries) - now) + 1000, MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#refresh().catch((error: unknown) => this.#ctx.log.warn(`calendar: ${String(error)}`));
    }, delay);
    this.#timer.unref?.();
  }
}
