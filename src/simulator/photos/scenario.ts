import { z } from "zod";
import { secondsOrDuration } from "../duration.ts";

/** Seconds or a duration string ("30s", "1h"), in milliseconds, above zero. */
const interval = secondsOrDuration.refine((ms) => ms > 0, { message: "must be above zero" });
const ratio = z.number().min(0).max(1);
const sizeRange = z
  .object({ min: z.number().int().min(1), max: z.number().int().min(1) })
  .refine((r) => r.min <= r.max, { message: "min must be <= max" });

const libraryFields = {
  count: z.number().int().min(0).max(200_000).default(50),
  seed: z.number().int().default(1),
  live_photo_ratio: ratio.default(0.25),
  video_ratio: ratio.default(0.1),
  raw_ratio: ratio.default(0.02),
  png_ratio: ratio.default(0.05),
  favorite_ratio: ratio.default(0.05),
  /** Share of masters whose `filenameEnc` is typed STRING instead of ENCRYPTED_BYTES. */
  string_filename_ratio: ratio.default(0.02),
  hidden_count: z.number().int().min(0).default(0),
  deleted_count: z.number().int().min(0).default(0),
  /** Capture dates spread over this many days before the library's creation. */
  span_days: z
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(3 * 365),
  original_size: sizeRange.default({ min: 150_000, max: 3_000_000 }),
  hostile_filenames: z.boolean().default(false),
  /**
   * Share of photos named like an earlier one (`IMG_0042.HEIC` twice): counters restart on a new
   * phone or camera, so real libraries hold different photos of the same name.
   */
  duplicate_name_ratio: ratio.default(0),
};

/** A user album of the personal library: the visible photos the seed picks, `share` of the library. */
export const albumSchema = z
  .object({
    name: z.string(),
    /** Folder (albumType 3) holding the album; folders are created from these names. */
    folder: z.string().min(1).optional(),
    share: ratio.default(0.1),
  })
  .strict();

export const sharedLibrarySchema = z.object({
  count: z.number().int().min(0).max(200_000).default(20),
  seed: z.number().int().optional(),
  /** Owned by this account: the zone is in the private database; otherwise in the shared one. */
  owned: z.boolean().default(true),
});

export const photosScenarioSchema = z
  .object({
    ...libraryFields,
    /** false = iCloud Photos never set up: no zones, queries answer ZONE_NOT_FOUND. */
    enabled: z.boolean().default(true),
    shared_library: sharedLibrarySchema.optional(),
    /** A new photo appears in PrimarySync each time the simulator clock passes this interval (ms once parsed). */
    new_photo_every: interval.optional(),
    indexing: z.enum(["FINISHED", "RUNNING"]).default("FINISHED"),
    /** Inline zone errors for the first `changes/zone` answers (e.g. RETRY_LATER, THROTTLED). */
    zone_errors: z
      .array(
        z
          .object({
            server_error_code: z.string().min(1),
            reason: z.string().optional(),
            zone_name: z.string().optional(),
            times: z.number().int().min(1).default(1),
          })
          .strict(),
      )
      .default([]),
    indexing_progress: z.number().int().min(0).max(100).default(42),
    /** User albums of PrimarySync (CPLAlbum records; none by default, like a fresh library). */
    albums: z.array(albumSchema).max(500).default([]),
  })
  .strict();

export type PhotosScenario = z.infer<typeof photosScenarioSchema>;
export type SharedLibraryScenario = z.infer<typeof sharedLibrarySchema>;
export type AlbumScenario = z.infer<typeof albumSchema>;

/** The generator's view of one zone's library options. */
export interface LibraryOptions {
  count: number;
  seed: number;
  liveRatio: number;
  videoRatio: number;
  rawRatio: number;
  pngRatio: number;
  favoriteRatio: number;
  stringFilenameRatio: number;
  hiddenCount: number;
  deletedCount: number;
  spanDays: number;
  sizeMin: number;
  sizeMax: number;
  hostileFilenames: boolean;
  duplicateNameRatio: number;
  albums: readonly AlbumScenario[];
}

export function libraryOptions(s: PhotosScenario, override?: { count: number; seed: number }): LibraryOptions {
  return {
    count: override?.count ?? s.count,
    seed: override?.seed ?? s.seed,
    liveRatio: s.live_photo_ratio,
    videoRatio: s.video_ratio,
    rawRatio: s.raw_ratio,
    pngRatio: s.png_ratio,
    favoriteRatio: s.favorite_ratio,
    stringFilenameRatio: s.string_filename_ratio,
    hiddenCount: override ? 0 : s.hidden_count,
    deletedCount: override ? 0 : s.deleted_count,
    spanDays: s.span_days,
    sizeMin: s.original_size.min,
    sizeMax: s.original_size.max,
    hostileFilenames: s.hostile_filenames,
    duplicateNameRatio: s.duplicate_name_ratio,
    albums: override ? [] : s.albums,
  };
}

export function parsePhotosScenario(raw: unknown): PhotosScenario {
  return photosScenarioSchema.parse(raw ?? {});
}
