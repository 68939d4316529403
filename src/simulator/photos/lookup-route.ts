/** `records/lookup`: fetch records by name; unknown or expunged ones come back as per-record errors. */
import { z } from "zod";
import type { Route } from "../router.ts";
import { cloudKitRoute, resolveZone, zoneIdSchema, zoneNotFound } from "./cloudkit-common.ts";
import { FLAG_EXPUNGED } from "./item-types.ts";
import { decodeAssetRecordName, decodeMasterRecordName } from "./names.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";
import { assetRecord, masterRecord, type RecordContext } from "./records.ts";
import { zoneToken } from "./zone-routes.ts";

const bodySchema = z
  .object({
    records: z.array(z.object({ recordName: z.string() }).passthrough()).min(1),
    zoneID: zoneIdSchema.optional(),
    desiredKeys: z.array(z.string()).optional(),
  })
  .passthrough();

export function lookupRoute(sim: PhotosSimulator): Route {
  return cloudKitRoute(
    sim,
    "photos.records.lookup",
    "records/lookup",
    bodySchema,
    ({ library, database, body, dsid, now, wantsSyncToken }) => {
      const zone = resolveZone(library, database, body.zoneID);
      if (!zone) return zoneNotFound(body.zoneID);
      const ctx: RecordContext = { origin: sim.ctx.origin(), dsid, now, desiredKeys: body.desiredKeys };
      const records = body.records.map(({ recordName }) => {
        const master = decodeMasterRecordName(zone, recordName);
        const asset = master === undefined ? decodeAssetRecordName(zone, recordName) : undefined;
        const idx = master ?? asset;
        if (idx === undefined || (zone.flags[idx] ?? 0) & FLAG_EXPUNGED) {
          return { recordName, reason: "Record not found", serverErrorCode: "NOT_FOUND" };
        }
        return master !== undefined ? masterRecord(zone, idx, ctx) : assetRecord(zone, idx, ctx);
      });
      return { status: 200, json: wantsSyncToken ? { records, syncToken: zoneToken(zone) } : { records } };
    },
  );
}
