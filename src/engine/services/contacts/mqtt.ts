import { sensor } from "../../../mqtt/discovery/sensor.ts";
import type { MqttOutput, MqttServiceView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { BirthdayPerson } from "./birthdays.ts";
import type { ContactsEvents, ContactsSnapshot } from "./events.ts";
import { type ContactsRemoteState, contactsRemote } from "./mqtt-remote.ts";

const birthdaysTopic = (ctx: MqttViewContext, account: string) =>
  ctx.topics.account(account, "contacts", "birthdays_today");
const countTopic = (ctx: MqttViewContext, account: string) => ctx.topics.account(account, "contacts", "count");

function birthdays(ctx: MqttViewContext, account: string, date: string, contacts: BirthdayPerson[]): MqttOutput {
  return {
    kind: "state",
    topic: birthdaysTopic(ctx, account),
    payload: JSON.stringify({ date, count: contacts.length, names: contacts.map((c) => c.name), contacts }),
    retain: true,
  };
}

function count(ctx: MqttViewContext, account: string, value: number): MqttOutput {
  return { kind: "state", topic: countTopic(ctx, account), payload: String(value), retain: true };
}

/**
 * Contacts on MQTT: `contacts/birthdays_today` (retained `{date, count, names, contacts: [{id,
 * name, birthday, age}]}`, names and birthdays only) and `contacts/count`. No other contact detail is published.
 */
export const contactsMqtt: MqttServiceView<ContactsSnapshot, ContactsEvents, ContactsRemoteState> = {
  snapshot: (ctx, account, snapshot) => [
    ...(snapshot.date === null ? [] : [birthdays(ctx, account, snapshot.date, snapshot.birthdays_today)]),
    ...(snapshot.count === null ? [] : [count(ctx, account, snapshot.count)]),
  ],
  events: {
    "contacts.birthdays": (ctx, { account, date, contacts }) => [birthdays(ctx, account, date, contacts)],
    "contacts.count": (ctx, { account, count: value }) => [count(ctx, account, value)],
  },
  accountComponents: (ctx, account, { data }) => ({
    birthdays_today: sensor(
      data,
      { key: "birthdays_today", name: "Birthdays today", icon: "mdi:cake-variant" },
      {
        state_topic: birthdaysTopic(ctx, account.id),
        value_template: "{{ value_json.count }}",
        json_attributes_topic: birthdaysTopic(ctx, account.id),
      },
    ),
  }),
  ownedStateFilters: ({ topics }) => [
    topics.anyAccount("contacts", "birthdays_today"),
    topics.anyAccount("contacts", "count"),
  ],
  remote: contactsRemote,
};
