import { z } from "zod";
import { nullableString, scheduleField } from "../../../config/fields.ts";

/** Folders the mirror keeps in the download folder (archive, album links): no download lands there. */
const RESERVED_FOLDERS = ["_Archive", "_Albums"];

/** Placeholders allowed in `photos.download.structure`. */
export const PHOTO_STRUCTURE_TOKENS = ["{yyyy}", "{mm}", "{dd}", "{account}", "{library}"] as const;

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
      .refine(
        (value) => !RESERVED_FOLDERS.includes(value.split(/[/\\]/)[0]?.trim() ?? ""),
        `may not start with ${RESERVED_FOLDERS.join(" or ")} (the mirror's own folders)`,
      )
      .default("{yyyy}/{mm}/{dd}")
      .describe(
        `Sub-folder per file from its creation date, using ${PHOTO_STRUCTURE_TOKENS.join(" ")}; "none" = flat.`,
      ),
    live_videos: z.boolean().default(true).describe("Also download the video part of Live Photos."),
    thumbnails: z.boolean().default(false).describe("Also download thumbnails."),
    concurrency: z.number().int().min(1).max(16).default(2).describe("Parallel downloads."),
    mode: z
      .enum(["new", "all"])
      .default("new")
      .describe(
        "new: download photos added after the first poll; all: mirror the whole library once (newest first, " +
          "resumable, without announcing old photos as new), then keep following changes.",
      ),
    on_delete: z
      .enum(["keep", "archive"])
      .default("keep")
      .describe(
        "Photos deleted or hidden in iCloud: keep their files where they are (never deleted locally), or " +
          "archive = move them to `_Archive/` inside the download folder.",
      ),
    albums: z
      .boolean()
      .default(false)
      .describe(
        "Mirror user albums as folders of links (`_Albums/<album>/`, hard links, else relative symbolic links) " +
          "to the downloaded files.",
      ),
    file_mode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be an octal mode in quotes, like "0600" or "0640"')
      .default("0600")
      .describe(
        'Permissions of downloaded files, octal in quotes ("0640": readable by the group). Folders the bridge creates get the same plus search (x) where anyone may read or write. Default "0600": the files are private to the bridge\'s user.',
      ),
  })
  .superRefine(
    (download, ctx) => {
      // `when` lets this run beside other problems, so keys may still be missing here.
      const partial: { enabled?: unknown; folder?: unknown } = download;
      if (partial.enabled === true && (partial.folder === null || partial.folder === undefined)) {
        ctx.addIssue({ code: "custom", path: ["folder"], message: "is required when photos.download.enabled is true" });
      }
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  )
  .describe("Downloading photos to disk.");

/** `accounts[].photos`: the iCloud Photo Library (icpl.photos). */
export const PhotosConfigSchema = z
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

export type PhotosConfig = z.output<typeof PhotosConfigSchema>;
