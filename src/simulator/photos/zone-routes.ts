/** `zones/list` and `changes/database`. */
import { z } from "zod";
import type { Route } from "../router.ts";
import { ckError, cloudKitRoute } from "./cloudkit-common.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";
import { decodeSyncToken, encodeSyncToken } from "./sync-token.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export function zoneToken(zone: ZoneLibrary): string {
  return encodeSyncToken(zone.key, zone.head);
}

export function zoneRoutes(sim: PhotosSimulator): Route[] {
  return [
    cloudKitRoute(sim, "photos.zones.list", "zones/list", z.object({}).passthrough(), ({ library, database }) => ({
      status: 200,
      json: {
        zones: library
          .zonesIn(database)
          .map(({ library: zone }) => ({ zoneID: { ...zone.zone }, syncToken: zoneToken(zone), deleted: false })),
      },
    })),
    cloudKitRoute(
      sim,
      "photos.changes.database",
      "changes/database",
      z.object({ syncToken: z.string().optional(), resultsLimit: z.number().int().optional() }).passthrough(),
      ({ library, database, body }) => {
        const key = library.databaseKey(database);
        const head = library.databaseHead(database);
        let since = 0;
        if (body.syncToken !== undefined) {
          const seq = decodeSyncToken(key, body.syncToken, head);
          if (seq === undefined) return ckError(400, "BAD_REQUEST", "Unknown sync continuation type");
          since = seq;
        }
        const zones = library
          .zonesIn(database)
          .filter(({ library: zone }) => library.zoneChangedAt(zone) > since)
          .map(({ library: zone }) => ({ zoneID: { ...zone.zone }, syncToken: zoneToken(zone) }));
        return { status: 200, json: { zones, moreComing: false, syncToken: encodeSyncToken(key, head) } };
      },
    ),
  ];
}
