import type { HttpServiceView } from "../../../http/service-view.ts";
import type { CalendarSnapshot } from "./events.ts";

/** The calendar in the HTTP API and on the web page: the next event, today's events and the calendars read. */
export const calendarHttp: HttpServiceView<CalendarSnapshot> = {
  view: (snapshot) => ({
    next: snapshot.next,
    date: snapshot.date,
    today: snapshot.today,
    calendars: snapshot.calendars,
  }),
  files: {},
};
