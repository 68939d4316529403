import { describe, it } from "vitest";
import type { ServiceEvents } from "../../src/engine/services/service-module.ts";
import { accountEntityContexts } from "../../src/mqtt/discovery/account-device.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../src/mqtt/service-view.ts";
import { loadMqttViews } from "../../src/mqtt/service-views.ts";
import { Topics } from "../../src/mqtt/topics.ts";
import { expectGoldenFile } from "../support/golden.ts";
import { summary } from "../support/mqtt.ts";

/**
 * What the contacts, calendar and notes services publish on MQTT and announce to Home Assistant, for
 * fixed data, compared with test/golden/mqtt/<service>-payloads.json (whole payloads, topics and
 * retain flags). `UPDATE_GOLDEN=1` rewrites them.
 */

const ctx: MqttViewContext = { topics: new Topics("icloud2mqtt", "homeassistant"), version: "0.1.0" };
const views = new Map((await loadMqttViews()).map(({ key, view }) => [key, view]));

function readable(outputs: MqttOutput[]): unknown[] {
  return outputs.map((output) => {
    if (output.kind !== "state") return output;
    const text = Buffer.from(output.payload).toString("utf8");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { topic: output.topic, retain: output.retain, payload: text };
    }
    return { topic: output.topic, retain: output.retain, json };
  });
}

function render(key: string, snapshot: unknown, events: Record<string, unknown>): unknown {
  const view = views.get(key) as MqttServiceView<unknown, ServiceEvents>;
  const account = summary("jane");
  return {
    snapshot: readable(view.snapshot(ctx, "jane", snapshot)),
    events: Object.fromEntries(
      Object.entries(events).map(([name, payload]) => {
        const renderer = view.events[name] as ((c: MqttViewContext, p: unknown) => MqttOutput[]) | undefined;
        if (renderer === undefined) throw new Error(`${key} does not render ${name}`);
        return [name, readable(renderer(ctx, payload))];
      }),
    ),
    home_assistant: view.accountComponents(ctx, account, accountEntityContexts(ctx.topics, "jane")),
  };
}

const EVENT = {
  id: "A1B2*20270329T090000",
  data_type: "mme_calendar.event",
  calendar_id: "WORK",
  calendar: "Work",
  title: "Weekly sync",
  location: "Room 1",
  all_day: false,
  start: "2027-03-29T09:00:00+02:00",
  end: "2027-03-29T09:30:00+02:00",
  time_zone: "Europe/Berlin",
  recurring: true,
};
const HOLIDAY = {
  ...EVENT,
  id: "EASTER",
  title: "Easter",
  location: null,
  all_day: true,
  start: "2027-03-29",
  end: "2027-03-30",
  time_zone: null,
  recurring: false,
};
const BIRTHDAYS = [
  { id: "68542e90283b822a", name: "Zoë Lefèvre", birthday: "1990-03-29", age: 37 },
  { id: "7c49ba085d671f58", name: "健太 佐藤", birthday: "--03-29", age: null },
];
const NOTE = {
  id: "0F4B1C2D-5E6F-4A7B-8C9D-0E1F2A3B4C5D",
  data_type: "mme_notes.note",
  title: "Packing list",
  folder: "Notes",
  folder_id: "F00D",
  created: "2027-03-01T08:00:00.000Z",
  modified: "2027-03-29T07:15:00.000Z",
  locked: false,
  text: null,
  attachments: [
    {
      id: "mme_notes_attachment://A77A",
      data_type: "image",
      extension: "jpg",
      filename: "suitcase.jpg",
      uti: "public.jpeg",
      size: 2048,
    },
  ],
};

describe("MQTT payloads of the contacts, calendar and notes services (golden)", () => {
  it("contacts: birthdays_today and count", () => {
    expectGoldenFile(
      "mqtt/contacts-payloads",
      render(
        "contacts",
        { count: 312, date: "2027-03-29", birthdays_today: BIRTHDAYS },
        {
          "contacts.birthdays": { account: "jane", date: "2027-03-30", contacts: [] },
          "contacts.count": { account: "jane", count: 313 },
        },
      ),
    );
  });

  it("calendar: next (an event, and {} for none) and today", () => {
    expectGoldenFile(
      "mqtt/calendar-payloads",
      render(
        "calendar",
        { next: EVENT, date: "2027-03-29", today: [HOLIDAY, EVENT], calendars: [{ id: "WORK", title: "Work" }] },
        {
          "calendar.next": { account: "jane", event: null },
          "calendar.today": { account: "jane", date: "2027-03-30", events: [] },
        },
      ),
    );
  });

  it("notes: count and one event per note (no body by default)", () => {
    expectGoldenFile(
      "mqtt/notes-payloads",
      render(
        "notes",
        { count: 42, recent: [NOTE] },
        {
          "note.changed": { account: "jane", change: "updated", note: NOTE },
          "notes.count": { account: "jane", count: 43 },
        },
      ),
    );
  });
});
