import type { IcplAsset } from "../../../icloud/photos/types.ts";

/** What the photos service tells front-ends. */
export type PhotosEvents = {
  /** A photo not seen before; `thumbnail` is JPEG bytes when available (not emitted for the library found on the first run). */
  "photo.new": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The newest photo of the library changed (also on the first run, without a `photo.new`). */
  "photo.latest": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The library's asset count changed. */
  "photo.count": [{ account: string; count: number }];
};

export interface PhotosSnapshot {
  latest: { asset: IcplAsset; thumbnail: Buffer | null } | null;
  count: number | null;
}
