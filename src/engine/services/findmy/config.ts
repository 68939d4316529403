import { z } from "zod";
import { scheduleField } from "../../../config/fields.ts";

const HomeSchema = z
  .strictObject({
    latitude: z.number().min(-90).max(90).describe("Latitude of home, in degrees."),
    longitude: z.number().min(-180).max(180).describe("Longitude of home, in degrees."),
    radius: z.number().positive().default(100).describe("Radius around home in metres; inside it a device is home."),
  })
  .describe("Home location for home/away device trackers.");

/** A device's friendly name: its MQTT topic segment and Home Assistant object id. */
const FriendlyNameSchema = z
  .string()
  .regex(/^[a-z0-9_]{1,64}$/, "use 1 to 64 of a-z, 0-9 and _ (it becomes a topic level and an entity id)");

/** `accounts[].findmy`: Find My devices (fmip.devices). */
export const FindMyConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Publish Find My devices (location, battery)."),
    schedule: scheduleField("5m", "How often the device list is fetched. Below 5m risks Apple ID locks."),
    locate: z
      .union([z.enum(["none", "all"]), z.array(z.string().min(1)).min(1)])
      .default("none")
      .describe(
        'Devices to actively locate: "none", "all", or a list of device names or ids. Active locating wakes devices and drains batteries.',
      ),
    locate_schedule: scheduleField("15m", "How often the devices in `locate` are actively located."),
    family: z.boolean().default(true).describe("Include the devices of Family Sharing members."),
    home: HomeSchema.nullable()
      .default(null)
      .describe("Home location {latitude, longitude, radius} for home/away; null disables it."),
    friendly_names: z
      .record(z.string().min(1), FriendlyNameSchema)
      .default({})
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        for (const [device, name] of Object.entries(names)) {
          if (seen.has(name)) ctx.addIssue({ code: "custom", path: [device], message: `"${name}" is used twice` });
          seen.add(name);
        }
      })
      .describe(
        "Device id or name → friendly name (a-z, 0-9, _): the device's topic <base>/<account>/devices/<friendly name> and Home Assistant entity ids. Devices not listed get one from their name, kept once assigned.",
      ),
  })
  .describe("Find My (fmip.devices).");

export type FindMyConfig = z.output<typeof FindMyConfigSchema>;
