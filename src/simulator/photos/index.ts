/**
 * The simulator's iCloud Photos service: CloudKit `com.apple.photos.cloud` endpoints on
 * `{origin}/database/1/com.apple.photos.cloud/production/{private|shared}/…`, file downloads on
 * `{origin}/B/…`, and simulator-only control routes on `/__sim/photos/…`.
 */
import type { ServiceRoutesFactory } from "../context.ts";
import { adminRoutes } from "./admin-routes.ts";
import { changesZoneRoute } from "./changes-zone.ts";
import { downloadRoute } from "./download-route.ts";
import { lookupRoute } from "./lookup-route.ts";
import { photosSimulatorFor } from "./photos-simulator.ts";
import { queryRoutes } from "./query-route.ts";
import { zoneRoutes } from "./zone-routes.ts";

export const createPhotosRoutes: ServiceRoutesFactory = (ctx) => {
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
