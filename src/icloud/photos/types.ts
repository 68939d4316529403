import { z } from "zod";
import type { ZoneId } from "./cloudkit-schemas.ts";

/**
 * The `icpl.asset` vocabulary: one iCloud Photo Library item as the bridge publishes it (MQTT, HTTP,
 * ricloud-compatible results). It follows ricloud's `icpl.photos` data type (`id`, `data_type`,
 * `filename`, `files[]`, `date_created`, `date_uploaded`, `local_date_created`) and adds:
 *
 * - `files[].role`: which CloudKit resource the file is (`original`, `live_video`, `thumbnail`, ...),
 *   because ricloud's list is unlabelled and consumers need to pick the Live Photo video or a preview.
 * - `media_type` (`photo` | `video` | `live_photo`), `favorite`, `hidden`: from `itemType`,
 *   `resOriginalVidComplRes`, `isFavorite`, `isHidden`.
 * - `master_id`: the CPLMaster record name (the file set) next to `id` (the CPLAsset record name, the
 *   library entry), and `zone` (`PrimarySync` or `SharedSync-…`).
 * - `duration` (seconds) for videos when known.
 *
 * Download URLs are deliberately NOT part of the vocabulary: they carry keys and expire after ~1 h.
 * They live in {@link PhotoItem.downloads}, which never leaves the process.
 */

export const FILE_ROLES = [
  "original",
  "original_alt",
  "live_video",
  "full",
  "large",
  "medium",
  "thumbnail",
  "video_full",
  "video_medium",
  "video_small",
  "sidecar",
] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export const IcplFileSchema = z
  .object({
    /** `icpl://<stable id>`: Apple's `fileChecksum` (same form as ricloud's ids), else `<master>~<role>`. */
    id: z.string().startsWith("icpl://"),
    data_type: z.enum(["image", "video", "audio", "file"]),
    extension: z.string(),
    size: z.number().int().nonnegative(),
    width: z.number().int().nonnegative().optional(),
    height: z.number().int().nonnegative().optional(),
    role: z.enum(FILE_ROLES),
  })
  .loose();
export type IcplFile = z.infer<typeof IcplFileSchema>;

/** ISO 8601 with `Z` or an explicit offset. */
const IsoDate = z.iso.datetime({ offset: true });

export const IcplAssetSchema = z
  .object({
    id: z.string().min(1),
    data_type: z.literal("icpl.asset"),
    filename: z.string(),
    files: z.array(IcplFileSchema),
    /** Capture time (`assetDate`), UTC. */
    date_created: IsoDate,
    /** When the item was added to the library (`addedDate`), UTC; ricloud's `since`/`until` filter on it. */
    date_uploaded: IsoDate,
    /** Capture time in the photo's own offset (`timeZoneOffset`), e.g. `2020-09-18T13:32:17+01:00`. */
    local_date_created: IsoDate.optional(),
    media_type: z.enum(["photo", "video", "live_photo"]),
    favorite: z.boolean(),
    hidden: z.boolean(),
    master_id: z.string().min(1),
    zone: z.string().min(1),
    duration: z.number().nonnegative().optional(),
  })
  .loose();
export type IcplAsset = z.infer<typeof IcplAssetSchema>;

/** Which database a zone lives in: the user's own (`private`) or libraries shared with them (`shared`). */
export type PhotoDatabase = "private" | "shared";

export interface PhotoZone {
  database: PhotoDatabase;
  zoneID: ZoneId;
}

/** An asset plus what only the client needs to fetch its files again. Never serialise `downloads`. */
export interface PhotoItem {
  asset: IcplAsset;
  zone: PhotoZone;
  /** Download URL per file id; absent when CloudKit sent no `downloadURL` for that resource. */
  downloads: Map<string, string>;
  /** Record flags that the vocabulary reports through other channels. */
  deleted: boolean;
}

/** A removal seen in `changes/zone`. */
export interface PhotoRemoval {
  /** Record name: a CPLAsset's equals `IcplAsset.id`, a CPLMaster's equals `IcplAsset.master_id`. */
  id: string;
  zone: string;
  /** `expunged`: hard-deleted tombstone; `recently_deleted`: moved to Recently Deleted (`isDeleted`). */
  reason: "expunged" | "recently_deleted";
}
