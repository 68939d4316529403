/**
 * The simulator's iCloud Photos service (reference §3).
 *
 * Apple paths, all POST with a JSON body sent as text/plain or application/json:
 * `{origin}/database/1/com.apple.photos.cloud/production/{private|shared}/` +
 * `zones/list`, `changes/database`, `changes/zone`, `records/query`, `internal/records/query/batch`,
 * `records/lookup` (route ids `photos.zones.list`, `photos.changes.database`, `photos.changes.zone`,
 * `photos.records.query`, `photos.batch`, `photos.records.lookup`), and downloads
 * `GET|HEAD {origin}/B/<token>/<${f} | $%7Bf%7D | any name>?…&e=…&s=…` (`photos.download`).
 *
 * Choices where the reference leaves the HTTP status open:
 * - no/expired web session → 401 `{"reason":"Invalid global session","error":2}`;
 * - web access off / ADP → 403 `{"uuid","serverErrorCode":"ACCESS_DENIED","reason":"private db access disabled for this account"}`;
 * - unknown zone in query/lookup → 404 ZONE_NOT_FOUND; malformed body, unknown index, bad marker → 400 BAD_REQUEST;
 * - in `changes/zone` zone errors are inline on the zone entry (BAD_REQUEST for a bad token, ZONE_NOT_FOUND,
 *   injected RETRY_LATER/THROTTLED), and an empty-string token returns no records ("caught up");
 * - expired download URL → 410 Gone (what icloudpd/pyicloud users see); bad signature → 403; unknown → 404;
 *   unsatisfiable Range → 416.
 * `CPLAssetAndMasterByAddedDate` lists the same assets as the capture-date index (hidden and Recently
 * Deleted excluded), ordered by added date. `desiredKeys` is applied as a projection of `fields`.
 *
 * Run-time control (tests, demo): `findPhotosSimulator(handle.url)` or `photosSimulatorFor(ctx)` →
 * `addPhotos(dsid, n, zoneName?)`, `changePhoto(dsid, recordName, "hide"|"unhide"|"delete"|"restore"|"expunge"|…)`,
 * `injectZoneError(dsid, {serverErrorCode: "RETRY_LATER"|"THROTTLED"|…, times?, zoneName?})`,
 * `setIndexing(dsid, state, progress?)`, `visiblePhotos(dsid)`. The same operations exist as
 * `POST /__sim/photos/{add,change,zone-error,indexing}` (simulator-only).
 */
import type { ServiceRoutesFactory } from "../context.ts";
import { adminRoutes } from "./admin-routes.ts";
import { changesZoneRoute } from "./changes-zone.ts";
import { downloadRoute } from "./download-route.ts";
import { lookupRoute } from "./lookup-route.ts";
import { photosSimulatorFor } from "./photos-simulator.ts";
import { queryRoutes } from "./query-route.ts";
import { photosScenarioSchema } from "./scenario.ts";
import { zoneRoutes } from "./zone-routes.ts";

export const createPhotosRoutes: ServiceRoutesFactory = (ctx) => {
  // Fail at start-up, not on the first request, when a `photos` section is invalid.
  for (const account of ctx.accounts()) {
    const parsed = photosScenarioSchema.safeParse(account.services.photos ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `scenario account ${account.appleId}: photos.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      );
    }
  }
  const sim = photosSimulatorFor(ctx);
  return [
    ...zoneRoutes(sim),
    changesZoneRoute(sim),
    ...queryRoutes(sim),
    lookupRoute(sim),
    downloadRoute(sim),
    ...adminRoutes(sim),
  ];
};

export type { AssetChange } from "./account-library.ts";
export { type AddedPhoto, findPhotosSimulator, PhotosSimulator, photosSimulatorFor } from "./photos-simulator.ts";
export { type PhotosScenario, photosScenarioSchema } from "./scenario.ts";
