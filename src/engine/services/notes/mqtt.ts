import { eventEntity } from "../../../mqtt/discovery/event.ts";
import { sensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { NotesEvents, NotesSnapshot } from "./events.ts";
import { NOTE_EVENT_TYPES, type NotesRemoteState, notesRemote } from "./mqtt-remote.ts";

const countTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "notes", "count");
const eventTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "notes", "event");

function count(ctx: MqttViewContext, account: string, value: number): MqttOutput {
  return { kind: "state", topic: countTopic(ctx, account), payload: String(value), retain: true };
}

/**
 * Notes on MQTT: `notes/count` (retained) and `notes/event` (not retained: `{event_type: created |
 * updated | deleted, …mme_notes.note}` per note, `text` null unless `notes.publish_body` is on).
 */
export const notesMqtt: MqttServiceView<NotesSnapshot, NotesEvents, NotesRemoteState> = {
  snapshot: (ctx, account, snapshot) => (snapshot.count === null ? [] : [count(ctx, account, snapshot.count)]),
  events: {
    "note.changed": (ctx, { account, change, note }) => [
      {
        kind: "state",
        topic: eventTopic(ctx, account),
        payload: JSON.stringify({ event_type: change, ...note }),
        retain: false,
      },
    ],
    "notes.count": (ctx, { account, count: value }) => [count(ctx, account, value)],
  },
  accountComponents: (ctx, account, { data }) => ({
    notes_count: sensor(
      data,
      { key: "notes_count", name: "Notes", icon: "mdi:note-multiple" },
      { state_topic: countTopic(ctx, account.id), state_class: "measurement" },
    ),
    note: eventEntity(data, { key: "note", name: "Note" }, eventTopic(ctx, account.id), [...NOTE_EVENT_TYPES]),
  }),
  ownedStateFilters: ({ topics }) => [topics.anyAccount("notes", "count")],
  remote: notesRemote,
};
