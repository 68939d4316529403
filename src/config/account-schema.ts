import { z } from "zod";
import { durationField, notBoth, nullableString, scheduleField } from "./fields.ts";

/** One iCloud account: credentials plus the Find My, photos and call-history features. */

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Placeholders allowed in `photos.download.structure`. */
export const PHOTO_STRUCTURE_TOKENS = ["{yyyy}", "{mm}", "{dd}", "{account}", "{library}"] as const;

const HomeSchema = z
  .strictObject({
    latitude: z.number().min(-90).max(90).describe("Latitude of home, in degrees."),
    longitude: z.number().min(-180).max(180).describe("Longitude of home, in degrees."),
    radius: z.number().positive().default(100).describe("Radius around home in metres; inside it a device is home."),
  })
  .describe("Home location for home/away device trackers.");

export const FindMySchema = z
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
  })
  .describe("Find My (fmip.devices).");

export const PhotoDownloadSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Download new photos and videos to `folder`."),
    folder: nullableString("Download folder; required when download is enabled. Relative to the config file."),
    structure: z
      .string()
      .min(1)
      .refine(
        (value) =>
          value === "none" ||
          (value.match(/\{[^}]*\}/g) ?? []).every((token) =>
            (PHOTO_STRUCTURE_TOKENS as readonly string[]).includes(token),
          ),
        `may only use the placeholders ${PHOTO_STRUCTURE_TOKENS.join(" ")} (or be "none")`,
      )
      .default("{yyyy}/{mm}/{dd}")
      .describe(
        `Sub-folder per file from its creation date, using ${PHOTO_STRUCTURE_TOKENS.join(" ")}; "none" = flat.`,
      ),
    live_videos: z.boolean().default(true).describe("Also download the video part of Live Photos."),
    thumbnails: z.boolean().default(false).describe("Also download thumbnails."),
    concurrency: z.number().int().min(1).max(16).default(2).describe("Parallel downloads."),
  })
  .describe("Downloading photos to disk.");

type PhotoDownload = z.output<typeof PhotoDownloadSchema>;

export const PhotosSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Watch the iCloud Photo Library for new photos (icpl.photos)."),
    schedule: scheduleField("15m", "How often the library is checked. Below 15m risks throttling."),
    library: z.enum(["private", "shared", "all"]).default("all").describe("Which library: private, shared or all."),
    announce_existing: z
      .boolean()
      .default(false)
      .describe("On the first run, announce existing photos as new (false: treat them as known, no flood of events)."),
    download: PhotoDownloadSchema.prefault({}).describe("Downloading photos to disk."),
  })
  .describe("iCloud Photos (icpl.photos).");

export const CallsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Publish call history (callkit.calls)."),
    schedule: scheduleField("5m", "How often call history is read."),
    source: z
      .enum(["icloud", "macos"])
      .default("icloud")
      .describe("Read calls from iCloud or from a local macOS database."),
    macos_db: z
      .string()
      .min(1)
      .default("~/Library/Application Support/CallHistoryDB/CallHistory.storedata")
      .describe('Path of the macOS CallHistory database, used when source is "macos".'),
  })
  .describe("Call history (callkit.calls).");

export const AccountSchema = z
  .strictObject({
    id: z
      .string()
      .regex(ACCOUNT_ID_PATTERN, "must match ^[a-z0-9][a-z0-9_-]{0,31}$ (lower case, digits, _ and -)")
      .describe("Short unique id, used in MQTT topics and as HTTP ?account=."),
    username: z.string().min(1).describe("Apple ID (e-mail address or phone number)."),
    password: nullableString(
      "Apple ID password. Optional: only needed for a full sign-in when no stored session is valid. Prefer password_file or ICLOUD2MQTT_ACCOUNTS__<n>__PASSWORD.",
    ),
    password_file: nullableString(
      "File holding the Apple ID password (e.g. a Docker secret); trailing newline trimmed.",
    ),
    region: z
      .enum(["international", "china"])
      .default("international")
      .describe("Apple region: international or china (icloud.com.cn)."),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .default(null)
      .describe("Advanced: base URL replacing every Apple host (used by the simulator)."),
    mfa_timeout: durationField("30m", "How long the account waits for a two-factor code before giving up."),
    findmy: FindMySchema.prefault({}),
    photos: PhotosSchema.prefault({}),
    calls: CallsSchema.prefault({}),
  })
  .superRefine(
    (account, ctx) => {
      // `when` below lets this run beside other problems, so any key may still be missing here.
      notBoth(account, "password", "password_file", ctx);
      const download: Partial<PhotoDownload> | undefined = account.photos?.download;
      if (download?.enabled === true && (download.folder === null || download.folder === undefined)) {
        ctx.addIssue({
          code: "custom",
          path: ["photos", "download", "folder"],
          message: "is required when photos.download.enabled is true",
        });
      }
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  )
  .describe("An iCloud account.");

export type AccountConfig = z.output<typeof AccountSchema>;
export type FindMyConfig = AccountConfig["findmy"];
export type PhotosConfig = AccountConfig["photos"];
export type CallsConfig = AccountConfig["calls"];
