import type { MmeCalendarEvent } from "../../../icloud/calendar/types.ts";
import { sensor, timestampSensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { CalendarEvents, CalendarSnapshot } from "./events.ts";
import { type CalendarRemoteState, calendarRemote } from "./mqtt-remote.ts";

const nextTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "calendar", "next");
const todayTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "calendar", "today");

function next(ctx: MqttViewContext, account: string, event: MmeCalendarEvent | null): MqttOutput {
  return { kind: "state", topic: nextTopic(ctx, account), payload: JSON.stringify(event ?? {}), retain: true };
}

function today(ctx: MqttViewContext, account: string, date: string, events: MmeCalendarEvent[]): MqttOutput {
  return {
    kind: "state",
    topic: todayTopic(ctx, account),
    payload: JSON.stringify({ date, count: events.length, events }),
    retain: true,
  };
}

/**
 * The calendar on MQTT: `calendar/next` (retained: the next timed event, ongoing or coming, as a
 * `mme_calendar.event`; `{}` when there is none) and `calendar/today` (retained `{date, count, events}`).
 */
export const calendarMqtt: MqttServiceView<CalendarSnapshot, CalendarEvents, CalendarRemoteState> = {
  snapshot: (ctx, account, snapshot) =>
    snapshot.date === null
      ? []
      : [next(ctx, account, snapshot.next), today(ctx, account, snapshot.date, snapshot.today)],
  events: {
    "calendar.next": (ctx, { account, event }) => [next(ctx, account, event)],
    "calendar.today": (ctx, { account, date, events }) => [today(ctx, account, date, events)],
  },
  accountComponents: (ctx, account, { data }) => ({
    next_event: timestampSensor(
      data,
      { key: "next_event", name: "Next event", icon: "mdi:calendar-clock" },
      nextTopic(ctx, account.id),
      "{{ value_json.start if value_json.start is defined else None }}",
      nextTopic(ctx, account.id),
    ),
    events_today: sensor(
      data,
      { key: "events_today", name: "Events today", icon: "mdi:calendar-today" },
      {
        state_topic: todayTopic(ctx, account.id),
        value_template: "{{ value_json.count }}",
        json_attributes_topic: todayTopic(ctx, account.id),
      },
    ),
  }),
  ownedStateFilters: ({ topics }) => [topics.anyAccount("calendar", "next"), topics.anyAccount("calendar", "today")],
  remote: calendarRemote,
};
