import { defineService, eventsOf } from "../service-module.ts";
import { notesCommands } from "./commands.ts";
import { NotesConfigSchema } from "./config.ts";
import type { NotesEvents, NotesSnapshot } from "./events.ts";
import { NotesStateSchema } from "./state.ts";

/** iCloud Notes (`mme_notes.notes`): the count, and each note created, changed or deleted. */
export const notes = defineService({
  key: "notes",
  dataType: "mme_notes.notes",
  title: "Notes",
  config: NotesConfigSchema,
  state: NotesStateSchema,
  enabled: (config) => config.enabled,
  scheduleChecks: (config) => [
    {
      key: "schedule",
      schedule: config.schedule,
      minimumMs: 15 * 60_000,
      risk: "Apple may throttle or lock the Apple ID",
    },
  ],
  start: async (context) => new (await import("./runtime.ts")).NotesRuntime(context),
  emptySnapshot: (): NotesSnapshot => ({ count: null, recent: [] }),
  commands: notesCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).notesMqtt,
    http: async () => (await import("./http.ts")).notesHttp,
    ricloud: async () => (await import("./ricloud.ts")).notesRicloud,
  },
  events: eventsOf<NotesEvents>(),
});

export type { NotesConfig } from "./config.ts";
export type { NoteChange, NotesEvents, NotesSnapshot } from "./events.ts";
