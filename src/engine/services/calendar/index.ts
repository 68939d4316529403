import { defineService, eventsOf } from "../service-module.ts";
import { calendarCommands } from "./commands.ts";
import { CalendarConfigSchema } from "./config.ts";
import type { CalendarEvents, CalendarSnapshot } from "./events.ts";
import { CalendarStateSchema } from "./state.ts";

/** iCloud Calendar (`mme_calendar.events`): the next event and today's events. */
export const calendar = defineService({
  key: "calendar",
  dataType: "mme_calendar.events",
  title: "Calendar",
  config: CalendarConfigSchema,
  state: CalendarStateSchema,
  enabled: (config) => config.enabled,
  scheduleChecks: (config) => [
    {
      key: "schedule",
      schedule: config.schedule,
      minimumMs: 5 * 60_000,
      risk: "Apple may throttle or lock the Apple ID",
    },
  ],
  start: async (context) => new (await import("./runtime.ts")).CalendarRuntime(context),
  emptySnapshot: (): CalendarSnapshot => ({ next: null, date: null, today: [], calendars: [] }),
  commands: calendarCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).calendarMqtt,
    http: async () => (await import("./http.ts")).calendarHttp,
    ricloud: async () => (await import("./ricloud.ts")).calendarRicloud,
  },
  events: eventsOf<CalendarEvents>(),
});

export type { CalendarConfig } from "./config.ts";
export type { CalendarEvents, CalendarSnapshot } from "./events.ts";
