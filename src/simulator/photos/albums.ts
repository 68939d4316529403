/**
 * User albums and folders of a zone (the scenario's `albums`), as CloudKit serves them to
 * pyicloud/icloudpd and icloud-photos-sync:
 * - `CPLAlbumByPositionLive` lists CPLAlbum records: the two system roots, then folders and albums
 *   with `albumNameEnc` (base64 UTF-8, ENCRYPTED_BYTES like `filenameEnc`), `albumType` (0 album,
 *   3 folder: icloud-photos-sync `AlbumType`), `parentId` (the holding folder, `----Root-Folder----`
 *   at the top), `position` and `isDeleted` (pyicloud skips deleted ones and the roots).
 * - `CPLContainerRelationLiveByAssetDate` with a `parentId` filter (pyicloud `PhotoAlbum` for user
 *   albums; icloud-photos-sync asks `CPLContainerRelationLiveByPosition`) pages the album's members by
 *   `startRank`/`direction`, answering CPLMaster and CPLAsset records like the other listings plus one
 *   CPLContainerRelation per member (`itemId`, `containerId`, `position`, `isKeyAsset`: pyicloud's
 *   desiredKeys name exactly these).
 * - `HyperionIndexCountLookup` counts them as `CPLContainerRelationNotDeletedByAssetDate:<album>`.
 */
import { mix } from "../prng.ts";
import { derivedUuid } from "./names.ts";
import type { CkRecord, Field } from "./records.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export const ROOT_FOLDER = "----Root-Folder----";
export const PROJECT_ROOT_FOLDER = "----Project-Root-Folder----";

export interface SimAlbum {
  recordName: string;
  name: string;
  kind: "album" | "folder";
  parentId: string;
  position: number;
  /** Index into the scenario's albums (folders: -1). */
  index: number;
  share: number;
}

const cache = new WeakMap<ZoneLibrary, SimAlbum[]>();

/** The zone's folders and albums (folders first, in the order their names first appear). */
export function albumsOf(zone: ZoneLibrary): SimAlbum[] {
  const cached = cache.get(zone);
  if (cached) return cached;
  const out: SimAlbum[] = [];
  const folders = new Map<string, SimAlbum>();
  for (const album of zone.options.albums) {
    if (album.folder === undefined || folders.has(album.folder)) continue;
    const folder: SimAlbum = {
      recordName: derivedUuid(zone.key, 0xf01d, folders.size),
      name: album.folder,
      kind: "folder",
      parentId: ROOT_FOLDER,
      position: 1024 * (out.length + 1),
      index: -1,
      share: 0,
    };
    folders.set(album.folder, folder);
    out.push(folder);
  }
  zone.options.albums.forEach((album, index) => {
    out.push({
      recordName: derivedUuid(zone.key, 0xa1b0, index),
      name: album.name,
      kind: "album",
      parentId: album.folder === undefined ? ROOT_FOLDER : (folders.get(album.folder)?.recordName ?? ROOT_FOLDER),
      position: 1024 * (out.length + 1),
      index,
      share: album.share,
    });
  });
  cache.set(zone, out);
  return out;
}

export function findAlbum(zone: ZoneLibrary, recordName: string): SimAlbum | undefined {
  return albumsOf(zone).find((album) => album.recordName === recordName);
}

/** Whether asset `idx` is in the album: a seeded pick among the zone's visible assets. */
export function inAlbum(zone: ZoneLibrary, album: SimAlbum, idx: number): boolean {
  if (album.kind !== "album" || !zone.isVisible(idx)) return false;
  return (mix(zone.key, idx, 0xa1b0 + album.index) % 10_000) / 10_000 < album.share;
}

/** Members of an album in capture-date order (`byPosition`: the order they were added, i.e. index order). */
export function albumOrder(zone: ZoneLibrary, album: SimAlbum, byPosition = false): Int32Array {
  return zone.view(
    `album:${album.recordName}:${byPosition ? "position" : "assetDate"}`,
    (idx) => inAlbum(zone, album, idx),
    byPosition ? undefined : zone.assetDate,
  );
}

function albumRecord(zone: ZoneLibrary, album: SimAlbum, createdAt: number): CkRecord {
  const fields: Record<string, Field> = {
    albumNameEnc: { value: Buffer.from(album.name, "utf8").toString("base64"), type: "ENCRYPTED_BYTES" },
    albumType: { value: album.kind === "folder" ? 3 : 0, type: "INT64" },
    parentId: { value: album.parentId, type: "STRING" },
    position: { value: album.position, type: "INT64" },
    isDeleted: { value: 0, type: "INT64" },
    sortAscending: { value: 1, type: "INT64" },
    sortType: { value: 0, type: "INT64" },
    sortTypeExt: { value: 0, type: "INT64" },
    recordModificationDate: { value: createdAt, type: "TIMESTAMP" },
  };
  const stamp = { timestamp: createdAt, userRecordName: zone.zone.ownerRecordName, deviceID: "1" };
  return {
    recordName: album.recordName,
    recordType: "CPLAlbum",
    fields,
    pluginFields: {},
    recordChangeTag: "1",
    created: stamp,
    modified: stamp,
    deleted: false,
    zoneID: { ...zone.zone },
  };
}

/** `CPLAlbumByPositionLive`: the system roots, then the scenario's folders and albums. */
export function albumListing(zone: ZoneLibrary, createdAt: number): CkRecord[] {
  const roots = [ROOT_FOLDER, PROJECT_ROOT_FOLDER].map((recordName, position) => {
    const stamp = { timestamp: createdAt, userRecordName: zone.zone.ownerRecordName, deviceID: "1" };
    const record: CkRecord = {
      recordName,
      recordType: "CPLAlbum",
      fields: {
        recordModificationDate: { value: createdAt, type: "TIMESTAMP" },
        sortAscending: { value: 1, type: "INT64" },
        sortType: { value: 0, type: "INT64" },
        albumType: { value: 3, type: "INT64" },
        position: { value: position, type: "INT64" },
        sortTypeExt: { value: 0, type: "INT64" },
      },
      pluginFields: {},
      recordChangeTag: "1",
      created: stamp,
      modified: stamp,
      deleted: false,
      zoneID: { ...zone.zone },
    };
    return record;
  });
  return [...roots, ...albumsOf(zone).map((album) => albumRecord(zone, album, createdAt))];
}

/** One CPLContainerRelation (album membership) record. */
export function relationRecord(
  zone: ZoneLibrary,
  album: SimAlbum,
  assetName: string,
  position: number,
  desiredKeys: readonly string[] | undefined,
): CkRecord {
  const all: Record<string, Field> = {
    itemId: { value: assetName, type: "STRING" },
    containerId: { value: album.recordName, type: "STRING" },
    position: { value: position, type: "INT64" },
    isKeyAsset: { value: position === 0 ? 1 : 0, type: "INT64" },
  };
  const fields: Record<string, Field> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!desiredKeys || desiredKeys.length === 0 || desiredKeys.includes(key)) fields[key] = value;
  }
  const seed = mix(zone.key, position, 0x4e1);
  return {
    recordName: `${assetName}-IN-${album.recordName}`,
    recordType: "CPLContainerRelation",
    fields,
    pluginFields: {},
    recordChangeTag: (seed >>> 0).toString(36),
    deleted: false,
    zoneID: { ...zone.zone },
  };
}
