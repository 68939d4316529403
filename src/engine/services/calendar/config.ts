import { z } from "zod";
import { scheduleField } from "../../../config/fields.ts";
import { isValidTimeZone } from "../../../icloud/calendar/time-zone.ts";

/** `accounts[].calendar`: iCloud Calendar (mme_calendar.events). */
export const CalendarConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Read iCloud Calendar (mme_calendar.events) and publish the next event and today's events."),
    schedule: scheduleField("15m", "How often the calendars are checked for changes."),
    days_ahead: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(7)
      .describe("How many days after today are read (the window `next` is looked for in)."),
    time_zone: z
      .string()
      .refine(isValidTimeZone, { message: "is not an IANA time zone like Europe/Berlin" })
      .nullable()
      .default(null)
      .describe("Time zone for 'today' and for asking iCloud (IANA name, e.g. Europe/Berlin); null = this machine's."),
    calendars: z.array(z.string().min(1)).default([]).describe("Only these calendars (titles or ids); empty = all."),
  })
  .describe("iCloud Calendar (mme_calendar.events).");

export type CalendarConfig = z.output<typeof CalendarConfigSchema>;
