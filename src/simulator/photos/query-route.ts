/** `records/query` (listing indexes, CheckIndexingState, albums) and `internal/records/query/batch`. */
import { z } from "zod";
import type { Route, SimResponse } from "../router.ts";
import type { AccountLibrary, Database } from "./account-library.ts";
import { albumListing, albumOrder, findAlbum, relationRecord, type SimAlbum } from "./albums.ts";
import { ckError, cloudKitRoute, MAX_RESULTS, resolveZone, zoneIdSchema, zoneNotFound } from "./cloudkit-common.ts";
import { countIndex, indexOrder, listingIndex } from "./indexes.ts";
import { assetRecordName, derivedUuid } from "./names.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";
import { assetRecord, type CkRecord, masterRecord, type RecordContext } from "./records.ts";
import type { ZoneLibrary } from "./zone-library.ts";
import { zoneToken } from "./zone-routes.ts";

const filterSchema = z
  .object({
    fieldName: z.string(),
    comparator: z.string().optional(),
    fieldValue: z.object({ type: z.string().optional(), value: z.unknown() }).passthrough(),
  })
  .passthrough();

export const querySchema = z
  .object({
    query: z
      .object({ recordType: z.string(), filterBy: z.union([z.array(filterSchema), filterSchema]).optional() })
      .passthrough(),
    zoneID: zoneIdSchema.optional(),
    resultsLimit: z.number().int().min(1).optional(),
    desiredKeys: z.array(z.string()).optional(),
    continuationMarker: z.string().optional(),
  })
  .passthrough();
type QueryBody = z.infer<typeof querySchema>;

function filters(body: QueryBody): Map<string, unknown> {
  const f = body.query.filterBy;
  const list = f === undefined ? [] : Array.isArray(f) ? f : [f];
  return new Map(list.map((item) => [item.fieldName, item.fieldValue.value]));
}

interface Marker {
  t: string;
  z: string;
  r: number;
  d: "ASCENDING" | "DESCENDING";
}

function encodeMarker(marker: Marker): string {
  return Buffer.from(JSON.stringify(marker)).toString("base64");
}

function decodeMarker(text: string): Marker | undefined {
  try {
    const m = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Partial<Marker>;
    if (
      typeof m.t === "string" &&
      typeof m.z === "string" &&
      typeof m.r === "number" &&
      (m.d === "ASCENDING" || m.d === "DESCENDING")
    )
      return m as Marker;
  } catch {}
  return undefined;
}

function indexingRecord(library: AccountLibrary, zone: ZoneLibrary): CkRecord {
  const at = library.createdAt;
  return {
    recordName: `_${derivedUuid(zone.key, 0x1dec).toLowerCase()}`,
    recordType: "CheckIndexingState",
    fields: {
      progress: { value: library.indexing.progress, type: "INT64" },
      state: { value: library.indexing.state, type: "STRING" },
    },
    pluginFields: {},
    recordChangeTag: "0",
    created: { timestamp: at, userRecordName: "_10", deviceID: "1" },
    modified: { timestamp: at, userRecordName: "_10", deviceID: "1" },
    deleted: false,
    zoneID: { ...zone.zone },
  };
}

/** Album member listings: by capture date (pyicloud/icloudpd) or by position (icloud-photos-sync). */
const CONTAINER_TYPES = new Set(["CPLContainerRelationLiveByAssetDate", "CPLContainerRelationLiveByPosition"]);

type QueryResult = { ok: true; body: Record<string, unknown> } | { ok: false; response: SimResponse };
const fail = (response: SimResponse): QueryResult => ({ ok: false, response });

/** Runs one query; returns the response body or an error response. */
export function runQuery(
  library: AccountLibrary,
  database: Database,
  body: QueryBody,
  rc: Omit<RecordContext, "desiredKeys">,
): QueryResult {
  const zone = resolveZone(library, database, body.zoneID);
  if (!zone) return fail(zoneNotFound(body.zoneID));
  const type = body.query.recordType;
  if (type === "CheckIndexingState") return { ok: true, body: { records: [indexingRecord(library, zone)] } };
  if (type === "CPLAlbumByPositionLive") return { ok: true, body: { records: albumListing(zone, library.createdAt) } };
  // icloud-photos-sync `app/src/lib/icloud/icloud-photos/icloud-photos.ts`
  // `getPictureRecordsCountForZone` asks for counts with a plain records/query (pyicloud/icloudpd use
  // the batch endpoint); the answer is the same IndexCountResult records.
  if (type === "HyperionIndexCountLookup") return { ok: true, body: { records: countRecords(zone, body) } };
  const f = filters(body);
  const smart = f.get("smartAlbum");
  let order: Int32Array;
  let sortBy: "assetDate" | "addedDate" | "modified" = "assetDate";
  let album: SimAlbum | undefined;
  if (CONTAINER_TYPES.has(type)) {
    // Album members (see albums.ts); like smartAlbum, the parentId filter is what names the album.
    const parent = f.get("parentId");
    if (typeof parent !== "string") return fail(ckError(400, "BAD_REQUEST", "Missing filter parentId"));
    album = findAlbum(zone, parent);
    order = album ? albumOrder(zone, album, type === "CPLContainerRelationLiveByPosition") : new Int32Array(0);
  } else {
    // Unknown record types and malformed markers/ranks: no client sends them; CloudKit's BAD_REQUEST
    // (reference 3.8) is the simulator's choice of answer.
    const def = listingIndex(type, typeof smart === "string" ? smart : undefined);
    if (def === "needs-filter") return fail(ckError(400, "BAD_REQUEST", "Missing filter smartAlbum"));
    if (!def) return fail(ckError(400, "BAD_REQUEST", `Type is not marked indexable: ${type}`));
    order = indexOrder(zone, def);
    sortBy = def.sortBy;
  }
  let rank = Number(f.get("startRank") ?? 0);
  let direction: Marker["d"] = f.get("direction") === "DESCENDING" ? "DESCENDING" : "ASCENDING";
  if (body.continuationMarker !== undefined) {
    const marker = decodeMarker(body.continuationMarker);
    if (!marker || marker.t !== type || marker.z !== zone.zone.zoneName)
      return fail(ckError(400, "BAD_REQUEST", "Invalid continuation marker"));
    rank = marker.r;
    direction = marker.d;
  }
  if (!Number.isInteger(rank) || rank < 0)
    return fail(ckError(400, "BAD_REQUEST", "startRank must be a non-negative integer"));
  const pairs = Math.max(1, Math.floor(Math.min(body.resultsLimit ?? MAX_RESULTS, MAX_RESULTS) / 2));
  const picked: number[] = [];
  /** Each picked member's rank in the order (its position in an album). */
  const ranks: number[] = [];
  const pick = (r: number): void => {
    picked.push(order[r] ?? 0);
    ranks.push(r);
  };
  let next: number | undefined;
  if (direction === "ASCENDING") {
    for (let r = rank; r < Math.min(order.length, rank + pairs); r++) pick(r);
    if (rank + pairs < order.length) next = rank + pairs;
  } else {
    const top = Math.min(rank, order.length - 1);
    const low = Math.max(0, top - pairs + 1);
    // By capture date a descending page walks newest-first; by added date it is a trailing
    // window ending at startRank, returned oldest-to-newest (pyicloud's observation).
    if (sortBy === "addedDate") for (let r = low; r <= top; r++) pick(r);
    else for (let r = top; r >= low; r--) pick(r);
    if (low > 0) next = low - 1;
  }
  const ctx: RecordContext = { ...rc, desiredKeys: body.desiredKeys };
  const records = [
    ...picked.map((idx) => masterRecord(zone, idx, ctx)),
    ...picked.map((idx) => assetRecord(zone, idx, ctx)),
  ];
  if (album) {
    const members = album;
    picked.forEach((idx, k) => {
      records.push(relationRecord(zone, members, assetRecordName(zone, idx), ranks[k] ?? 0, body.desiredKeys));
    });
  }
  const out: Record<string, unknown> = { records };
  if (next !== undefined)
    out.continuationMarker = encodeMarker({ t: type, z: zone.zone.zoneName, r: next, d: direction });
  return { ok: true, body: out };
}

const batchSchema = z.object({ batch: z.array(querySchema).min(1) }).passthrough();

function countRecords(zone: ZoneLibrary, body: QueryBody): CkRecord[] {
  const ids = filters(body).get("indexCountID");
  const list = Array.isArray(ids)
    ? ids.filter((v): v is string => typeof v === "string")
    : typeof ids === "string"
      ? [ids]
      : [];
  return list.map((id) => {
    const def = countIndex(id);
    const container = /^CPLContainerRelationNotDeletedByAssetDate:(.+)$/.exec(id)?.[1];
    const album = container === undefined ? undefined : findAlbum(zone, container);
    const count = album ? albumOrder(zone, album).length : def ? indexOrder(zone, def).length : 0;
    return {
      recordName: id,
      recordType: "IndexCountResult",
      fields: { itemCount: { value: count, type: "INT64" } },
      deleted: false,
      zoneID: { ...zone.zone },
    };
  });
}

export function queryRoutes(sim: PhotosSimulator): Route[] {
  return [
    cloudKitRoute(
      sim,
      "photos.records.query",
      "records/query",
      querySchema,
      ({ library, database, body, dsid, now, wantsSyncToken }) => {
        const result = runQuery(library, database, body, { origin: sim.ctx.origin(), dsid, now });
        if (!result.ok) return result.response;
        const zone = resolveZone(library, database, body.zoneID);
        if (wantsSyncToken && zone) result.body.syncToken = zoneToken(zone);
        return { status: 200, json: result.body };
      },
    ),
    cloudKitRoute(
      sim,
      "photos.batch",
      "internal/records/query/batch",
      batchSchema,
      ({ library, database, body, dsid, now, wantsSyncToken }) => {
        const batch = body.batch.map((query) => {
          const zone = resolveZone(library, database, query.zoneID);
          if (!zone)
            return {
              serverErrorCode: "ZONE_NOT_FOUND",
              reason: `Zone '${query.zoneID?.zoneName ?? "_defaultZone"}' does not exist`,
            };
          let entry: Record<string, unknown>;
          if (query.query.recordType === "HyperionIndexCountLookup") entry = { records: countRecords(zone, query) };
          else {
            const result = runQuery(library, database, query, { origin: sim.ctx.origin(), dsid, now });
            if (!result.ok) return result.response.json;
            entry = result.body;
          }
          if (wantsSyncToken) entry.syncToken = zoneToken(zone);
          return entry;
        });
        return { status: 200, json: { batch } };
      },
    ),
  ];
}
