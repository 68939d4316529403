import { z } from "zod";
import { EngineError } from "../../../errors.ts";
import { defineService, eventsOf } from "../service-module.ts";

/**
 * Safari history (`cloudkit_safari.history`). iCloud.com has no Safari history: its web session
 * offers no such data (no webservice, and public clients read none), so this service only says so
 * with the reason, as call history does on accounts without its service. Kept as a module so `sync`,
 * the APIs and the account state name the data type like every other.
 */
export const SAFARI_NOT_AVAILABLE_MESSAGE =
  "Safari history is not available for iCloud.com sessions: iCloud.com offers no Safari history (it syncs " +
  "end-to-end between Apple devices through a service web sign-ins cannot read)";

const SafariConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Report Safari history (cloudkit_safari.history); iCloud.com sessions cannot read it, so the service reports why.",
      ),
  })
  .describe("Safari history (cloudkit_safari.history): not available for iCloud.com sessions.");

export interface SafariSnapshot {
  available: false;
  reason: string;
}

const snapshot = (): SafariSnapshot => ({ available: false, reason: SAFARI_NOT_AVAILABLE_MESSAGE });

export const safari = defineService({
  key: "safari",
  dataType: "cloudkit_safari.history",
  title: "Safari history",
  config: SafariConfigSchema,
  state: z.object({}),
  enabled: (config) => config.enabled,
  start: async () => ({
    jobs: [
      {
        name: "safari",
        // Nothing is asked of Apple; the job only reports (once a day) that there is nothing to read.
        schedule: "1d",
        run: () => Promise.reject(new EngineError("SERVICE_NOT_AVAILABLE", SAFARI_NOT_AVAILABLE_MESSAGE)),
      },
    ],
    snapshot,
  }),
  emptySnapshot: snapshot,
  commands: {},
  views: {
    mqtt: async () => (await import("./views.ts")).safariMqtt,
    http: async () => (await import("./views.ts")).safariHttp,
    ricloud: async () => (await import("./views.ts")).safariRicloud,
  },
  events: eventsOf<Record<never, never>>(),
});
