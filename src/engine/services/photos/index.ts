import { defineService, eventsOf } from "../service-module.ts";
import { photosCommands } from "./commands.ts";
import { PhotosConfigSchema } from "./config.ts";
import type { PhotosEvents, PhotosSnapshot } from "./events.ts";
import { PhotosRuntime } from "./runtime.ts";
import { PhotosStateSchema } from "./state.ts";

/** iCloud Photos (`icpl.photos`): new photos, the newest one with its thumbnail, the count, downloads. */
export const photos = defineService({
  key: "photos",
  dataType: "icpl.photos",
  title: "Photos",
  config: PhotosConfigSchema,
  state: PhotosStateSchema,
  enabled: (config) => config.enabled,
  // Reports put Apple's tolerance for library checks near 15 minutes.
  scheduleChecks: (config) => [
    {
      key: "schedule",
      schedule: config.schedule,
      minimumMs: 15 * 60_000,
      risk: "Apple may throttle or lock the Apple ID",
    },
  ],
  pathKeys: [["download", "folder"]],
  start: (context) => PhotosRuntime.start(context),
  emptySnapshot: (): PhotosSnapshot => ({ latest: null, count: null }),
  commands: photosCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).photosMqtt,
    http: async () => (await import("./http.ts")).photosHttp,
    ricloud: async () => (await import("./ricloud.ts")).photosRicloud,
  },
  events: eventsOf<PhotosEvents>(),
});

export { PHOTO_STRUCTURE_TOKENS, type PhotosConfig } from "./config.ts";
export type { PhotosEvents, PhotosSnapshot } from "./events.ts";
