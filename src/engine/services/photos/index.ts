import { defineService, eventsOf } from "../service-module.ts";
import { photosCommands } from "./commands.ts";
import { PhotosConfigSchema } from "./config.ts";
import type { PhotosEvents, PhotosSnapshot } from "./events.ts";
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
  start: async (context) => (await import("./runtime.ts")).PhotosRuntime.start(context),
  emptySnapshot: (): PhotosSnapshot => ({ latest: null, count: null, backfill: null }),
  commands: photosCommands,
  views: {
    mqtt: async () => (await import("./mqtt.ts")).photosMqtt,
    http: async () => (await import("./http.ts")).photosHttp,
    ricloud: async () => (await import("./ricloud.ts")).photosRicloud,
  },
  cli: [
    {
      name: "download",
      description:
        "Download the whole library (or the photos taken between --since and --until) to a folder, newest " +
        "first, with a progress bar; safe to interrupt and run again",
      options: [
        ["--since <date>", "only photos taken on or after DATE (e.g. 2024-05-01)"],
        ["--until <date>", "only photos taken before DATE"],
        ["--dry-run", "count what would be downloaded, write nothing"],
        ["--folder <dir>", "download folder (default: the account's photos.download.folder)"],
      ],
      load: async () => (await import("./cli.ts")).run,
    },
  ],
  events: eventsOf<PhotosEvents>(),
});

export { PHOTO_STRUCTURE_TOKENS, type PhotosConfig } from "./config.ts";
export type { MirrorProgress, PhotosEvents, PhotosSnapshot } from "./events.ts";
