/** The listing indexes (record types of records/query) and count ids (HyperionIndexCountLookup). */
import {
  FLAG_DELETED,
  FLAG_EXPUNGED,
  FLAG_FAVORITE,
  FLAG_HIDDEN,
  FLAG_LIVE,
  itemType,
  TYPE_PNG,
} from "./item-types.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export interface IndexDef {
  name: string;
  include: (z: ZoneLibrary, idx: number) => boolean;
  sortBy: "assetDate" | "addedDate" | "modified";
}

const visible = (z: ZoneLibrary, i: number): boolean => z.isVisible(i);
const visibleWith =
  (test: (z: ZoneLibrary, i: number) => boolean) =>
  (z: ZoneLibrary, i: number): boolean =>
    z.isVisible(i) && test(z, i);
const flag = (f: number) => (z: ZoneLibrary, i: number) => ((z.flags[i] ?? 0) & f) !== 0;
const none = (): boolean => false;

/** Smart albums by the `smartAlbum` filter value of CPLAssetAndMasterInSmartAlbumByAssetDate. */
const SMART_ALBUMS: Record<string, (z: ZoneLibrary, i: number) => boolean> = {
  FAVORITE: visibleWith(flag(FLAG_FAVORITE)),
  VIDEO: visibleWith((z, i) => itemType(z.itemType[i] ?? 0).video),
  LIVE: visibleWith(flag(FLAG_LIVE)),
  SCREENSHOT: visibleWith((z, i) => z.itemType[i] === TYPE_PNG),
  PANORAMA: none,
  SLOMO: none,
  TIMELAPSE: none,
  BURST: none,
};

const hidden = (z: ZoneLibrary, i: number): boolean =>
  ((z.flags[i] ?? 0) & (FLAG_HIDDEN | FLAG_DELETED | FLAG_EXPUNGED)) === FLAG_HIDDEN;
const trashed = (z: ZoneLibrary, i: number): boolean =>
  ((z.flags[i] ?? 0) & (FLAG_DELETED | FLAG_EXPUNGED)) === FLAG_DELETED;

/** The index behind a listing record type (with its smartAlbum filter), or undefined if unknown. */
export function listingIndex(
  recordType: string,
  smartAlbum: string | undefined,
): IndexDef | "needs-filter" | undefined {
  switch (recordType) {
    case "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted":
      return { name: "assetDate:visible", include: visible, sortBy: "assetDate" };
    case "CPLAssetAndMasterByAddedDate":
      return { name: "addedDate:visible", include: visible, sortBy: "addedDate" };
    case "CPLAssetAndMasterHiddenByAssetDate":
      return { name: "assetDate:hidden", include: hidden, sortBy: "assetDate" };
    case "CPLAssetAndMasterDeletedByExpungedDate":
      return { name: "modified:deleted", include: trashed, sortBy: "modified" };
    case "CPLAssetAndMasterInSmartAlbumByAssetDate": {
      if (smartAlbum === undefined) return "needs-filter";
      const include = SMART_ALBUMS[smartAlbum.toUpperCase()];
      return include
        ? { name: `assetDate:smart:${smartAlbum.toUpperCase()}`, include, sortBy: "assetDate" }
        : undefined;
    }
    default:
      return undefined;
  }
}

/** The index counted by a HyperionIndexCountLookup id; undefined for unknown ids (counted as 0). */
export function countIndex(id: string): IndexDef | undefined {
  if (id === "CPLAssetByAssetDateWithoutHiddenOrDeleted")
    return listingIndex("CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted", undefined) as IndexDef;
  if (id === "CPLAssetByAddedDate") return listingIndex("CPLAssetAndMasterByAddedDate", undefined) as IndexDef;
  if (id === "CPLAssetHiddenByAssetDate")
    return listingIndex("CPLAssetAndMasterHiddenByAssetDate", undefined) as IndexDef;
  if (id === "CPLAssetDeletedByExpungedDate")
    return listingIndex("CPLAssetAndMasterDeletedByExpungedDate", undefined) as IndexDef;
  const smart = /^CPLAssetInSmartAlbumByAssetDate:(\w+)$/.exec(id);
  if (smart?.[1]) {
    const def = listingIndex("CPLAssetAndMasterInSmartAlbumByAssetDate", smart[1]);
    return typeof def === "object" ? def : undefined;
  }
  return undefined;
}

export function indexOrder(z: ZoneLibrary, def: IndexDef): Int32Array {
  return z.view(def.name, (i) => def.include(z, i), z[def.sortBy]);
}
