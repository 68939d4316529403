import { defineService, eventsOf } from "../service-module.ts";
import { findMyCommands } from "./commands.ts";
import { FindMyConfigSchema } from "./config.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { FindMyStateSchema, legacyFindMyState } from "./state.ts";

const LOCK_RISK = "Apple may throttle or lock the Apple ID";

/** Find My (`fmip.devices`): devices with location and battery, locate and the device actions. */
export const findmy = defineService({
  key: "findmy",
  dataType: "fmip.devices",
  title: "Find My",
  config: FindMyConfigSchema,
  state: FindMyStateSchema,
  legacyState: legacyFindMyState,
  enabled: (config) => config.enabled,
  scheduleChecks: (config) => [
    { key: "schedule", schedule: config.schedule, minimumMs: 5 * 60_000, risk: LOCK_RISK },
    ...(config.locate === "none"
      ? []
      : [
          {
            key: "locate_schedule",
            schedule: config.locate_schedule,
            minimumMs: 5 * 60_000,
            risk: `${LOCK_RISK}, and every locate wakes the devices and drains their batteries`,
          },
        ]),
  ],
  start: async (context) => new (await import("./runtime.ts")).FindMyRuntime(context),
  emptySnapshot: (): FindMySnapshot => ({ devices: [] }),
  commands: findMyCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).findMyMqtt,
    http: async () => (await import("./http.ts")).findMyHttp,
    ricloud: async () => (await import("./ricloud.ts")).findMyRicloud,
  },
  events: eventsOf<FindMyEvents>(),
});

export type { FindMyConfig } from "./config.ts";
export type { FindMyEvents, FindMySnapshot } from "./events.ts";
export type { FindMyRuntime } from "./runtime.ts";
