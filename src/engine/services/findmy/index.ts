import { defineService, eventsOf } from "../service-module.ts";
import { findMyCommands } from "./commands.ts";
import { FindMyConfigSchema } from "./config.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { FindMyRuntime } from "./runtime.ts";
import { FindMyStateSchema, legacyFindMyState } from "./state.ts";

/** Find My (`fmip.devices`): devices with location and battery, locate and the device actions. */
export const findmy = defineService({
  key: "findmy",
  dataType: "fmip.devices",
  title: "Find My",
  config: FindMyConfigSchema,
  state: FindMyStateSchema,
  legacyState: legacyFindMyState,
  enabled: (config) => config.enabled,
  start: async (context) => new FindMyRuntime(context),
  emptySnapshot: (): FindMySnapshot => ({ devices: [] }),
  commands: findMyCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).findMyMqtt,
    http: async () => (await import("./http.ts")).findMyHttp,
  },
  events: eventsOf<FindMyEvents>(),
});

export type { FindMyConfig } from "./config.ts";
export type { FindMyEvents, FindMySnapshot } from "./events.ts";
export type { FindMyRuntime } from "./runtime.ts";
