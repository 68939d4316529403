import type { CloudKitClient } from "./cloudkit-client.ts";
import type { CloudKitRecord } from "./cloudkit-schemas.ts";
import { RecordsResponseSchema } from "./cloudkit-schemas.ts";
import { flag, numberField, stringField } from "./records.ts";
import type { PhotoZone } from "./types.ts";
import { PAGE_RECORDS } from "./zone-changes.ts";

/**
 * User albums and folders of a library zone, as pyicloud/icloudpd read them:
 * - the list is one `records/query` of `CPLAlbumByPositionLive` (pyicloud `_fetch_folders`), whose
 *   `CPLAlbum` records carry `albumNameEnc` (base64 UTF-8), `isDeleted`, and the two system roots
 *   `----Root-Folder----` / `----Project-Root-Folder----` that are not albums;
 * - `albumType` 0 is an album and 3 a folder, `parentId` the folder holding it (icloud-photos-sync's
 *   `AlbumType` enum and album model);
 * - an album's members are `CPLContainerRelationLiveByAssetDate` pages filtered by
 *   `parentId = <album record name>` with `startRank`/`direction` (pyicloud `PhotoAlbum`), answered
 *   with CPLContainerRelation (`itemId` = asset record name), CPLAsset and CPLMaster records.
 */

export interface PhotoAlbum {
  /** CPLAlbum record name. */
  id: string;
  name: string;
  kind: "album" | "folder";
  /** The folder holding it; null at the top. */
  parentId: string | null;
}

const ROOTS = new Set(["----Root-Folder----", "----Project-Root-Folder----"]);
const FOLDER_TYPE = 3;
const ALBUM_TYPE = 0;

function albumName(record: CloudKitRecord): string | undefined {
  const field = record.fields?.["albumNameEnc"];
  if (typeof field?.value !== "string" || field.value === "") return undefined;
  if (field.type === "STRING") return field.value;
  const decoded = Buffer.from(field.value, "base64").toString("utf8");
  return decoded === "" ? undefined : decoded;
}

/** The zone's albums and folders (smart albums and the system roots left out), in CloudKit's order. */
export async function listAlbums(client: CloudKitClient, zone: PhotoZone, signal?: AbortSignal): Promise<PhotoAlbum[]> {
  const albums: PhotoAlbum[] = [];
  let marker: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const body = {
      query: { recordType: "CPLAlbumByPositionLive" },
      zoneID: zone.zoneID,
      ...(marker === undefined ? {} : { continuationMarker: marker }),
    };
    const answer = await client.post(zone.database, "/records/query", body, RecordsResponseSchema, signal);
    for (const record of answer.records) {
      if (record.recordType !== "CPLAlbum" || ROOTS.has(record.recordName) || record.serverErrorCode) continue;
      if (record.deleted === true || flag(record, "isDeleted")) continue;
      const type = numberField(record, "albumType") ?? ALBUM_TYPE;
      if (type !== ALBUM_TYPE && type !== FOLDER_TYPE) continue; // smart or shared stream types
      const parent = stringField(record, "parentId");
      albums.push({
        id: record.recordName,
        name: albumName(record) ?? record.recordName,
        kind: type === FOLDER_TYPE ? "folder" : "album",
        parentId: parent === undefined || ROOTS.has(parent) ? null : parent,
      });
    }
    marker = answer.continuationMarker;
    if (marker === undefined) break;
  }
  return albums;
}

/** Keys an album listing needs: only which assets are in it. */
const MEMBER_KEYS = ["itemId", "containerId", "masterRef", "recordName", "recordType", "isDeleted"];

/** The asset record names in one album, page by page (one page in memory at a time). */
export async function* albumMembers(
  client: CloudKitClient,
  zone: PhotoZone,
  albumId: string,
  signal?: AbortSignal,
): AsyncGenerator<string[]> {
  let rank = 0;
  for (;;) {
    signal?.throwIfAborted();
    const body = {
      query: {
        recordType: "CPLContainerRelationLiveByAssetDate",
        filterBy: [
          { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: rank } },
          { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "ASCENDING" } },
          { fieldName: "parentId", comparator: "EQUALS", fieldValue: { type: "STRING", value: albumId } },
        ],
      },
      resultsLimit: PAGE_RECORDS,
      desiredKeys: MEMBER_KEYS,
      zoneID: zone.zoneID,
    };
    const answer = await client.post(zone.database, "/records/query", body, RecordsResponseSchema, signal);
    const assets = answer.records.filter((record) => record.recordType === "CPLAsset");
    if (assets.length === 0) return;
    const ids = new Set<string>();
    for (const record of assets) if (!flag(record, "isDeleted")) ids.add(record.recordName);
    yield [...ids];
    rank += assets.length;
  }
}
