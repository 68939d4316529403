import { z } from "zod";
import { accountField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { CalendarRuntime } from "./runtime.ts";

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");
const listEvents = z.strictObject({
  account: accountField,
  from: date.optional().describe("First day (inclusive, in the configured time zone); default today"),
  to: date.optional().describe("Last day (inclusive); default `days_ahead` after `from`"),
});

/** The calendar's commands (read-only). */
export const calendarCommands = {
  /** The events of a date range (`mme_calendar.event`, recurring events expanded), read from iCloud now. */
  list_events: {
    schema: listEvents,
    run: async (runtime, { from, to }) => ({
      events: await runtime.list({ ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) }),
    }),
  } satisfies ServiceCommand<typeof listEvents, CalendarRuntime, unknown>,
};
