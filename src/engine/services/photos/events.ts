import type { IcplAsset } from "../../../icloud/photos/types.ts";
import type { MirrorProgress } from "./mirror.ts";

export type { MirrorProgress } from "./mirror.ts";

/** What the photos service tells front-ends. */
export type PhotosEvents = {
  /** A photo not seen before; `thumbnail` is JPEG bytes when available (not emitted for the library found on the first run). */
  "photo.new": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The newest photo of the library changed (also on the first run, without a `photo.new`). */
  "photo.latest": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The library's asset count changed. */
  "photo.count": [{ account: string; count: number }];
  /** Progress of a whole-library download (`download.mode: all`, or a requested sync): about once a second. */
  "photo.backfill": [{ account: string; progress: MirrorProgress }];
};

export interface PhotosSnapshot {
  latest: { asset: IcplAsset; thumbnail: Buffer | null } | null;
  count: number | null;
  /** The whole-library download: running, or how the last one ended; null when there was none. */
  backfill: MirrorProgress | null;
}
