import { z } from "zod";
import { CalendarInfoSchema, DateRangeSchema, MmeCalendarEventSchema } from "../../../icloud/calendar/types.ts";

export const PlacedEventSchema = z.object({
  event: MmeCalendarEventSchema,
  start_ms: z.number(),
  end_ms: z.number(),
});
export type StoredEvent = z.infer<typeof PlacedEventSchema>;

/**
 * What the calendar service keeps across restarts: the calendars' `ctag`s and the window the events
 * were read for (so an unchanged account costs one request), the events of that window, and the
 * `next`/`today` it last published.
 */
export const CalendarStateSchema = z.object({
  calendars: z.array(CalendarInfoSchema).default([]),
  window: DateRangeSchema.nullable().default(null),
  events: z.array(PlacedEventSchema).default([]),
  next: MmeCalendarEventSchema.nullable().default(null),
  today_date: z.string().nullable().default(null),
  today: z.array(MmeCalendarEventSchema).default([]),
});
export type CalendarState = z.output<typeof CalendarStateSchema>;
