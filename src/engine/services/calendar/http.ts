import type { CardItem, HttpServiceView } from "../../../http/service-view.ts";
import type { MmeCalendarEvent } from "../../../icloud/calendar/types.ts";
import type { CalendarSnapshot } from "./events.ts";

function item(event: MmeCalendarEvent): CardItem {
  return {
    id: event.id,
    title: event.title,
    subtitle: event.location === null ? event.calendar : `${event.calendar} · ${event.location}`,
    facts: event.all_day
      ? [{ label: "All day", value: event.start }]
      : [
          { label: "Starts", value: event.start, format: "time" },
          { label: "Ends", value: event.end, format: "time" },
        ],
    badges: event.recurring ? [{ text: "Repeats", tone: "muted" }] : [],
  };
}

/** The calendar in the HTTP API and on the web page: the next event, today's events and the calendars read. */
export const calendarHttp: HttpServiceView<CalendarSnapshot> = {
  view: (snapshot) => ({
    next: snapshot.next,
    date: snapshot.date,
    today: snapshot.today,
    calendars: snapshot.calendars,
  }),
  card: (snapshot) => ({
    facts: [
      { label: "Next", value: snapshot.next?.title ?? null },
      { label: "Starts", value: snapshot.next?.start ?? null, format: "time" },
      { label: "Events today", value: snapshot.today.length, format: "number" },
    ],
    itemsTitle: "Today",
    items: snapshot.today.map(item),
    empty: "Nothing on the calendar today.",
  }),
  files: {},
};
