import { byCodeUnits } from "../../util/compare.ts";
import { addDays, isoDateOf, isoInZone, isValidTimeZone, startOfDay, type WallTime, wallToUtc } from "./time-zone.ts";
import type { CalendarInfo, MmeCalendarEvent } from "./types.ts";
import type { AppleDate, WireEvent } from "./wire.ts";

/** An event with the instants it covers, for sorting and for "next"/"today". */
export interface PlacedEvent {
  event: MmeCalendarEvent;
  startMs: number;
  endMs: number;
}

function wall(date: AppleDate): WallTime {
  const [, year, month, day, hour, minute] = date;
  return { year, month, day, hour: hour % 24, minute, second: 0 };
}

const dateOf = (date: AppleDate) => isoDateOf(wall(date));

/** The event's own zone, when it names one this machine knows (not `floating`). */
function zoneOf(event: WireEvent): string | null {
  const tz = event.tz?.trim();
  if (!tz || tz.toLowerCase() === "floating" || !isValidTimeZone(tz)) return null;
  return tz;
}

/**
 * One occurrence in ricloud's vocabulary. Timed events are placed with their local dates in their own
 * zone (so a weekly 09:00 in Berlin stays 09:00 across DST) and fall back to the dates in `userTz`;
 * all-day events are dates, their end exclusive however Apple wrote it (next midnight or 23:59).
 */
export function placeEvent(event: WireEvent, calendar: CalendarInfo | undefined, userTz: string): PlacedEvent {
  const base = {
    id: event.guid,
    data_type: "mme_calendar.event" as const,
    calendar_id: event.pGuid,
    calendar: calendar?.title ?? "",
    title: event.title ?? "",
    location: event.location?.trim() ? event.location : null,
    recurring: event.recurrenceMaster === true || Boolean(event.recurrence) || event.guid.includes("*"),
  };
  if (event.allDay === true) {
    const startDate = event.localStartDate ?? event.startDate;
    const endDate = event.localEndDate ?? event.endDate;
    const start = dateOf(startDate);
    const last = dateOf(endDate);
    const endWall = wall(endDate);
    const end = last > start && endWall.hour === 0 && endWall.minute === 0 ? last : addDays(last, 1);
    return {
      event: { ...base, all_day: true, start, end, time_zone: null },
      startMs: startOfDay(start, userTz),
      endMs: startOfDay(end, userTz),
    };
  }
  const zone = zoneOf(event);
  const local = zone !== null && event.localStartDate != null && event.localEndDate != null;
  const startMs = local
    ? wallToUtc(wall(event.localStartDate as AppleDate), zone as string)
    : wallToUtc(wall(event.startDate), userTz);
  const endMs = Math.max(
    startMs,
    local ? wallToUtc(wall(event.localEndDate as AppleDate), zone as string) : wallToUtc(wall(event.endDate), userTz),
  );
  const shownIn = zone ?? userTz;
  return {
    event: {
      ...base,
      all_day: false,
      start: isoInZone(startMs, shownIn),
      end: isoInZone(endMs, shownIn),
      time_zone: zone,
    },
    startMs,
    endMs,
  };
}

/** Events sorted by start, then end, then id. */
export function sortPlaced(events: PlacedEvent[]): PlacedEvent[] {
  return events.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || byCodeUnits(a.event.id, b.event.id));
}
