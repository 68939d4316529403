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

/**
 * A whole-library download (`download.mode: all`, or a requested sync that checks every file): where
 * the walk of each zone stands. The download index says which assets are on disk; this only saves
 * listing again what was already handed to the downloader.
 */
export const BackfillSchema = z.object({
  status: z.enum(["running", "done"]),
  /** Check files the index lists on disk too (a requested sync), not only assets not downloaded yet. */
  verify: z.boolean().default(false),
  /** Per zone (`database/zone/owner`): the rank the newest-first walk continues at; -1 once finished. */
  zones: z.record(z.string(), z.number().int()).default({}),
  started_at: z.string(),
  finished_at: z.string().nullable().default(null),
  /** Items handled and in the library at the last checkpoint (for the progress shown after a restart). */
  items_done: z.number().int().nonnegative().default(0),
  items_total: z.number().int().nonnegative().default(0),
});
export type Backfill = z.output<typeof BackfillSchema>;

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
  /** The whole-library download in progress or last finished (null: none yet). */
  backfill: BackfillSchema.nullable().catch(null).default(null),
});
export type PhotosState = z.output<typeof PhotosStateSchema>;
