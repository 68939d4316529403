import { defineService, eventsOf } from "../service-module.ts";
import { contactsCommands } from "./commands.ts";
import { ContactsConfigSchema } from "./config.ts";
import type { ContactsEvents, ContactsSnapshot } from "./events.ts";
import { ContactsStateSchema } from "./state.ts";

/** iCloud Contacts (`mme_contacts.contacts`): the address book, today's birthdays, profile images. */
export const contacts = defineService({
  key: "contacts",
  dataType: "mme_contacts.contacts",
  title: "Contacts",
  config: ContactsConfigSchema,
  state: ContactsStateSchema,
  enabled: (config) => config.enabled,
  scheduleChecks: (config) => [
    {
      key: "schedule",
      schedule: config.schedule,
      minimumMs: 60 * 60_000,
      risk: "the whole address book may be read again that often, and Apple may throttle the Apple ID",
    },
  ],
  start: async (context) => new (await import("./runtime.ts")).ContactsRuntime(context),
  emptySnapshot: (): ContactsSnapshot => ({ count: null, date: null, birthdays_today: [] }),
  commands: contactsCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).contactsMqtt,
    http: async () => (await import("./http.ts")).contactsHttp,
    ricloud: async () => (await import("./ricloud.ts")).contactsRicloud,
  },
  events: eventsOf<ContactsEvents>(),
});

export type { BirthdayPerson } from "./birthdays.ts";
export type { ContactsConfig } from "./config.ts";
export type { ContactsEvents, ContactsSnapshot } from "./events.ts";
