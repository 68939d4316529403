/** `changes/zone`: the per-zone change feed, coalesced, paged with `moreComing`. */
import { z } from "zod";
import type { Route } from "../router.ts";
import type { AccountLibrary, Database } from "./account-library.ts";
import { cloudKitRoute, MAX_RESULTS, resolveZone, type ZoneIdInput, zoneIdSchema } from "./cloudkit-common.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";
import { assetRecord, type CkRecord, masterRecord, type RecordContext } from "./records.ts";
import { decodeSyncToken, encodeSyncToken } from "./sync-token.ts";

const zoneRequestSchema = z
  .object({
    zoneID: zoneIdSchema,
    syncToken: z.string().optional(),
    desiredRecordTypes: z.array(z.string()).optional(),
    desiredKeys: z.array(z.string()).optional(),
    reverse: z.boolean().optional(),
    resultsLimit: z.number().int().min(1).optional(),
  })
  .passthrough();

const bodySchema = z
  .object({ zones: z.array(zoneRequestSchema).min(1), resultsLimit: z.number().int().min(1).optional() })
  .passthrough();

type ZoneRequest = z.infer<typeof zoneRequestSchema>;

function zoneChanges(
  library: AccountLibrary,
  database: Database,
  request: ZoneRequest,
  topLimit: number | undefined,
  rc: Omit<RecordContext, "desiredKeys">,
): Record<string, unknown> {
  const zoneId: ZoneIdInput = request.zoneID;
  const zone = resolveZone(library, database, zoneId);
  if (!zone)
    return { zoneID: zoneId, serverErrorCode: "ZONE_NOT_FOUND", reason: `Zone '${zoneId.zoneName}' does not exist` };
  const fault = library.takeZoneFault(zone.zone.zoneName);
  if (fault) return { zoneID: { ...zone.zone }, serverErrorCode: fault.serverErrorCode, reason: fault.reason };
  const head = zone.head;
  let since = 0;
  if (request.syncToken === "") {
    // An empty token means "caught up" (kei's notes): nothing is returned.
    return { zoneID: { ...zone.zone }, syncToken: encodeSyncToken(zone.key, head), moreComing: false, records: [] };
  }
  if (request.syncToken !== undefined) {
    const seq = decodeSyncToken(zone.key, request.syncToken, head);
    if (seq === undefined)
      return { zoneID: { ...zone.zone }, serverErrorCode: "BAD_REQUEST", reason: "Unknown sync continuation type" };
    since = seq;
  }
  const limit = Math.min(request.resultsLimit ?? topLimit ?? MAX_RESULTS, MAX_RESULTS);
  const wanted =
    request.desiredRecordTypes && request.desiredRecordTypes.length > 0
      ? new Set(request.desiredRecordTypes)
      : undefined;
  const ctx: RecordContext = { ...rc, desiredKeys: request.desiredKeys };
  const records: CkRecord[] = [];
  let seq = since;
  while (seq < head && records.length < limit) {
    const entry = zone.log[seq] ?? 0;
    seq++;
    const idx = entry >> 1;
    const isAsset = (entry & 1) === 1;
    // Coalesce: a record is sent once, at the position of its latest change.
    if ((isAsset ? zone.assetSeq[idx] : zone.masterSeq[idx]) !== seq) continue;
    if (wanted && !wanted.has(isAsset ? "CPLAsset" : "CPLMaster")) continue;
    records.push(isAsset ? assetRecord(zone, idx, ctx) : masterRecord(zone, idx, ctx));
  }
  return { zoneID: { ...zone.zone }, syncToken: encodeSyncToken(zone.key, seq), moreComing: seq < head, records };
}

export function changesZoneRoute(sim: PhotosSimulator): Route {
  return cloudKitRoute(
    sim,
    "photos.changes.zone",
    "changes/zone",
    bodySchema,
    ({ library, database, body, dsid, now }) => {
      const rc = { origin: sim.ctx.origin(), dsid, now };
      return {
        status: 200,
        json: { zones: body.zones.map((request) => zoneChanges(library, database, request, body.resultsLimit, rc)) },
      };
    },
  );
}
