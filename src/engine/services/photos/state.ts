import { z } from "zod";
import { PhotosSyncStateSchema } from "../../../icloud/photos/sync-state.ts";
import { IcplAssetSchema } from "../../../icloud/photos/types.ts";

/** An announced photo whose download failed: looked up again by record name in its zone on later polls. */
export const PendingDownloadSchema = z.object({
  id: z.string().min(1),
  master_id: z.string().min(1),
  database: z.enum(["private", "shared"]),
  zone: z.string().min(1),
  owner: z.string().min(1).optional(),
});
export type PendingDownload = z.output<typeof PendingDownloadSchema>;

/** What the photos service keeps across restarts. */
export const PhotosStateSchema = z.object({
  /** CloudKit sync tokens; stored only after their changes were handled. */
  sync: PhotosSyncStateSchema.nullable().catch(null).default(null),
  latest: IcplAssetSchema.nullable().default(null),
  count: z.number().int().nonnegative().nullable().default(null),
  /** Newest `date_uploaded` announced; bounds only the first run. */
  watermark: z.string().nullable().default(null),
  /** Recently announced asset ids, so a crash between announcing and saving never repeats one. */
  announced: z.array(z.string()).default([]),
  /** Announced assets whose download failed: retried on every later poll until it succeeds (bounded by the job). */
  pending_downloads: z.array(PendingDownloadSchema).default([]),
});
export type PhotosState = z.output<typeof PhotosStateSchema>;
