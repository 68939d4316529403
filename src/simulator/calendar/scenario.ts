import { z } from "zod";
import { isValidTimeZone } from "../../icloud/calendar/time-zone.ts";
import { msOrDuration } from "../duration.ts";

const timeZone = z.string().refine(isValidTimeZone, { message: "not an IANA time zone" });
/** A local wall time (`2027-03-29T09:00`, no offset: it is read in the event's zone) or a date (all-day). */
const localDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "expected YYYY-MM-DDTHH:MM");
const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");

export const WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"] as const;

export const RepeatSchema = z
  .object({
    freq: z.enum(["daily", "weekly", "monthly", "yearly"]),
    interval: z.number().int().min(1).default(1),
    /** Weekly only: the weekdays it happens on (default: the start's weekday). */
    by_day: z.array(z.enum(WEEKDAYS)).optional(),
    count: z.number().int().min(1).optional(),
    /** Last day an occurrence may start on (local date). */
    until: localDate.optional(),
  })
  .strict();
export type Repeat = z.output<typeof RepeatSchema>;

/** One event written out in a scenario, or added by a test at run time. */
export const ScenarioEventSchema = z
  .object({
    /** Apple's event guid; derived when omitted. */
    id: z.string().min(1).optional(),
    /** The calendar's title or id (default: the first calendar). */
    calendar: z.string().optional(),
    title: z.string(),
    location: z.string().optional(),
    /** Timed: local `YYYY-MM-DDTHH:MM` in `time_zone`; all-day: `YYYY-MM-DD`. */
    start: z.union([localDateTime, localDate]),
    /** Timed: local end; all-day: the last day (inclusive). Default: start + `duration_minutes`, or the same day. */
    end: z.union([localDateTime, localDate]).optional(),
    duration_minutes: z.number().int().min(0).default(60),
    /** The event's zone (default: the section's `time_zone`). */
    time_zone: timeZone.optional(),
    repeat: RepeatSchema.optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    const allDay = localDate.safeParse(event.start).success;
    if (event.end !== undefined && localDate.safeParse(event.end).success !== allDay)
      ctx.addIssue({
        code: "custom",
        path: ["end"],
        message: "end must be a date for all-day events, a time otherwise",
      });
  });
export type ScenarioEventInput = z.input<typeof ScenarioEventSchema>;
export type ScenarioEvent = z.output<typeof ScenarioEventSchema>;

/**
 * `accounts[].calendar` of a simulator scenario. Without this section the account has no Calendar web
 * service (accountLogin does not advertise `calendar`, as for an account with Calendars turned off).
 */
export const CalendarScenarioSchema = z
  .object({
    /** The zone of events without their own (default UTC). */
    time_zone: timeZone.default("UTC"),
    calendars: z
      .array(
        z
          .object({ id: z.string().min(1).optional(), title: z.string(), color: z.string().default("#1badf8") })
          .strict(),
      )
      .min(1)
      .default([
        { title: "Home", color: "#1badf8" },
        { title: "Work", color: "#ff2968" },
      ]),
    events: z.array(ScenarioEventSchema).default([]),
    /**
     * Invented events around the day the simulator starts (in `time_zone`): a weekday stand-up, a
     * weekly call kept in America/New_York, all-day trips and a yearly birthday, events earlier today,
     * later today and across midnight; the same for the same start day. `generate: {}` turns it on.
     */
    generate: z.object({}).strict().optional(),
    /** An event is added, moved or deleted (in turn) each time the simulator clock passes this interval. */
    change_every: msOrDuration.refine((ms) => ms >= 1000, { message: "change_every must be at least 1s" }).optional(),
  })
  .strict();
export type CalendarScenario = z.output<typeof CalendarScenarioSchema>;
export type CalendarScenarioInput = z.input<typeof CalendarScenarioSchema>;

/** Parses an account's raw `calendar` section; undefined when the account has none. Throws a readable error. */
export function parseCalendarScenario(raw: unknown, appleId: string): CalendarScenario | undefined {
  if (raw === undefined || raw === null) return undefined;
  const result = CalendarScenarioSchema.safeParse(raw);
  if (!result.success) throw new Error(`invalid calendar section for ${appleId}: ${z.prettifyError(result.error)}`);
  return result.data;
}
