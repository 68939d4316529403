import { z } from "zod";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/**
 * A calendar event (one occurrence; recurring events come expanded as iCloud.com shows them) as the
 * bridge publishes it (`mme_calendar.events` items). Timed events carry ISO 8601 instants with their
 * own time zone's offset; all-day events carry dates, `end` exclusive (as in iCalendar).
 */
export const MmeCalendarEventSchema = z.object({
  /** Apple's event guid (occurrences of recurring events: the master's guid, `*`, and the occurrence). */
  id: z.string().min(1),
  data_type: z.literal("mme_calendar.event"),
  calendar_id: z.string(),
  /** The calendar's title. */
  calendar: z.string(),
  title: z.string(),
  location: z.string().nullable(),
  all_day: z.boolean(),
  /** Timed: `2027-03-29T09:00:00+02:00`; all-day: `2027-03-29`. */
  start: z.string(),
  /** Timed: an instant as `start`; all-day: the day after the last day. */
  end: z.string(),
  /** The event's IANA time zone; null for all-day and floating events. */
  time_zone: z.string().nullable(),
  recurring: z.boolean(),
});
export type MmeCalendarEvent = z.infer<typeof MmeCalendarEventSchema>;

/** A calendar (collection) of the account. */
export const CalendarInfoSchema = z.object({
  id: z.string(),
  title: z.string(),
  color: z.string().nullable(),
  read_only: z.boolean(),
  /** Changes whenever an event of the calendar changes (Apple's `ctag`). */
  ctag: z.string().nullable(),
});
export type CalendarInfo = z.infer<typeof CalendarInfoSchema>;

export const DateRangeSchema = z.object({ from: isoDate, to: isoDate });
/** Inclusive dates (`YYYY-MM-DD`), as iCloud.com asks for them. */
export type DateRange = z.infer<typeof DateRangeSchema>;
