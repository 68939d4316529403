import type { MmeCalendarEvent } from "../../../icloud/calendar/types.ts";

/** What the calendar service tells front-ends. */
export type CalendarEvents = {
  /** The next timed event (ongoing or coming) changed; null when there is none in the window. */
  "calendar.next": [{ account: string; event: MmeCalendarEvent | null }];
  /** Today's events (timed and all-day) changed, or a new day began. */
  "calendar.today": [{ account: string; date: string; events: MmeCalendarEvent[] }];
};

export interface CalendarSnapshot {
  next: MmeCalendarEvent | null;
  /** The date `today` is for (`YYYY-MM-DD` in the configured zone); null before the first sync. */
  date: string | null;
  today: MmeCalendarEvent[];
  calendars: Array<{ id: string; title: string }>;
}
