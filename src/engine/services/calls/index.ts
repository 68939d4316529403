import { defineService, eventsOf } from "../service-module.ts";
import { callsCommands } from "./commands.ts";
import { CallsConfigSchema } from "./config.ts";
import type { CallsEvents, CallsSnapshot } from "./events.ts";
import { CallsStateSchema } from "./state.ts";

/** Call history (`callkit.calls`): new calls and the newest one. */
export const calls = defineService({
  key: "calls",
  dataType: "callkit.calls",
  title: "Calls",
  config: CallsConfigSchema,
  state: CallsStateSchema,
  enabled: (config) => config.enabled,
  // Only iCloud is polled; a local macOS database can be read as often as wanted.
  scheduleChecks: (config) =>
    config.source === "icloud"
      ? [
          {
            key: "schedule",
            schedule: config.schedule,
            minimumMs: 5 * 60_000,
            risk: "Apple may throttle or lock the Apple ID",
          },
        ]
      : [],
  pathKeys: [["macos_db"]],
  start: async (context) => new (await import("./runtime.ts")).CallsRuntime(context),
  emptySnapshot: (): CallsSnapshot => ({ last: null, recent: [] }),
  commands: callsCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).callsMqtt,
    http: async () => (await import("./http.ts")).callsHttp,
    ricloud: async () => (await import("./ricloud.ts")).callsRicloud,
  },
  events: eventsOf<CallsEvents>(),
});

export type { CallsConfig } from "./config.ts";
export type { CallsEvents, CallsSnapshot } from "./events.ts";
