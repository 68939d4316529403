import { z } from "zod";
import { type MmeCalendarEvent, MmeCalendarEventSchema } from "../../../icloud/calendar/types.ts";
import { parseJsonPayload } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { calendarCommands } from "./commands.ts";
import type { CalendarEvents, CalendarSnapshot } from "./events.ts";

/** `calendar/next`: the event, or `{}` when there is none. */
const NextSchema = z.union([MmeCalendarEventSchema, z.strictObject({}).transform(() => null)]);
export const TodaySchema = z.object({
  date: z.string(),
  count: z.number().int().nonnegative(),
  events: z.array(MmeCalendarEventSchema),
});

/** What a remote engine knows of an account's calendar. */
export interface CalendarRemoteState {
  next: { event: MmeCalendarEvent | null; json: string } | null;
  today: { date: string; events: MmeCalendarEvent[]; json: string } | null;
}

type Results = {
  [K in keyof typeof calendarCommands]: z.ZodType<Awaited<ReturnType<(typeof calendarCommands)[K]["run"]>>>;
};
const results: Results = { list_events: z.object({ events: z.array(MmeCalendarEventSchema) }) };

const topic = (ctx: MqttViewContext, account: string, leaf: string) => ctx.topics.account(account, "calendar", leaf);

/** The calendar read back from MQTT: a changed `calendar/next` or `calendar/today` is its event. */
export const calendarRemote: MqttRemoteView<CalendarSnapshot, CalendarEvents, CalendarRemoteState> = {
  filters: (ctx, account) => [topic(ctx, account, "next"), topic(ctx, account, "today")],
  initial: () => ({ next: null, today: null }),
  snapshot: (state) => ({
    next: state.next?.event ?? null,
    date: state.today?.date ?? null,
    today: state.today === null ? [] : [...state.today.events],
    calendars: [],
  }),
  receive: (ctx, account, state, { topic: received, payload }) => {
    if (received === topic(ctx, account, "next")) {
      if (payload.length === 0) {
        state.next = null;
        return { kind: "update", events: [] };
      }
      const parsed = parseJsonPayload(payload, NextSchema);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      const json = JSON.stringify(parsed.data);
      if (state.next?.json === json) return { kind: "update", events: [] };
      state.next = { event: parsed.data, json };
      return { kind: "update", events: [{ event: "calendar.next", payload: { account, event: parsed.data } }] };
    }
    if (received === topic(ctx, account, "today")) {
      if (payload.length === 0) {
        state.today = null;
        return { kind: "update", events: [] };
      }
      const parsed = parseJsonPayload(payload, TodaySchema);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      const json = JSON.stringify(parsed.data);
      if (state.today?.json === json) return { kind: "update", events: [] };
      const { date, events } = parsed.data;
      state.today = { date, events, json };
      return { kind: "update", events: [{ event: "calendar.today", payload: { account, date, events } }] };
    }
    return { kind: "ignored" };
  },
  results,
};
