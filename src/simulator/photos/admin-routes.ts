/**
 * Simulator-only control routes (not Apple paths), zod-validated JSON bodies:
 * - POST /__sim/photos/add          {dsid, count, zoneName?}            → {added: [{zoneName, assetRecordName, masterRecordName}]}
 * - POST /__sim/photos/change       {dsid, recordName, change}          → {changed: boolean}
 * - POST /__sim/photos/zone-error   {dsid, serverErrorCode, reason?, zoneName?, times?} → {ok: true}
 * - POST /__sim/photos/indexing     {dsid, state, progress?}            → {ok: true}
 */
import { z } from "zod";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";

const dsid = z.string().min(1);
const schemas = {
  add: z.object({ dsid, count: z.number().int().min(1).max(100_000), zoneName: z.string().optional() }),
  change: z.object({
    dsid,
    recordName: z.string(),
    change: z.enum(["hide", "unhide", "delete", "restore", "expunge", "favorite", "unfavorite"]),
  }),
  "zone-error": z.object({
    dsid,
    serverErrorCode: z.string().min(1),
    reason: z.string().optional(),
    zoneName: z.string().optional(),
    times: z.number().int().min(1).optional(),
  }),
  indexing: z.object({ dsid, state: z.string().min(1), progress: z.number().int().min(0).max(100).optional() }),
};

function adminRoute<K extends keyof typeof schemas>(
  name: K,
  run: (body: z.infer<(typeof schemas)[K]>) => unknown,
): Route {
  return {
    id: `photos.admin.${name}`,
    method: "POST",
    path: `/__sim/photos/${name}`,
    handle(req: SimRequest): SimResponse {
      let raw: unknown;
      try {
        raw = JSON.parse(req.body.toString("utf8") || "{}");
      } catch {
        return { status: 400, json: { error: "body is not JSON" } };
      }
      const parsed = schemas[name].safeParse(raw);
      if (!parsed.success)
        return {
          status: 400,
          json: { error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") },
        };
      try {
        return { status: 200, json: run(parsed.data as z.infer<(typeof schemas)[K]>) };
      } catch (error) {
        return { status: 404, json: { error: error instanceof Error ? error.message : String(error) } };
      }
    },
  };
}

export function adminRoutes(sim: PhotosSimulator): Route[] {
  return [
    adminRoute("add", (b) => ({ added: sim.addPhotos(b.dsid, b.count, b.zoneName) })),
    adminRoute("change", (b) => ({ changed: sim.changePhoto(b.dsid, b.recordName, b.change) })),
    adminRoute("zone-error", (b) => {
      sim.injectZoneError(b.dsid, b);
      return { ok: true };
    }),
    adminRoute("indexing", (b) => {
      sim.setIndexing(b.dsid, b.state, b.progress);
      return { ok: true };
    }),
  ];
}
