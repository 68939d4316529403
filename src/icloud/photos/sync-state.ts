import { z } from "zod";
import { ZoneIdSchema } from "./cloudkit-schemas.ts";
import type { PhotoDatabase, PhotoZone } from "./types.ts";

/**
 * What the bridge persists between polls to find new photos cheaply (icloud-protocol.md 3.6).
 * The caller stores `nextState` only after it has processed the changes it came with, so a crash
 * re-delivers changes instead of losing them. Tokens are opaque strings; an empty token is never sent.
 */
export const PhotosSyncStateSchema = z.object({
  version: z.literal(1),
  /** `changes/database` token per database that has zones we follow. */
  databases: z.object({ private: z.string().min(1).optional(), shared: z.string().min(1).optional() }),
  /** Zones followed, with the `changes/zone` token of the last fully processed page. */
  zones: z.array(
    z.object({
      database: z.enum(["private", "shared"]),
      zoneID: ZoneIdSchema,
      syncToken: z.string().min(1),
    }),
  ),
});
export type PhotosSyncState = z.infer<typeof PhotosSyncStateSchema>;
export type ZoneState = PhotosSyncState["zones"][number];

/** Key identifying a zone across databases and owners. */
export function zoneKey(zone: PhotoZone | ZoneState): string {
  return `${zone.database}/${zone.zoneID.zoneName}/${zone.zoneID.ownerRecordName ?? ""}`;
}

/** True for the photo-library zones the bridge follows: the personal library and Shared Libraries. */
export function isLibraryZone(zoneName: string): boolean {
  return zoneName === "PrimarySync" || zoneName.startsWith("SharedSync-");
}

export function databasesOf(state: PhotosSyncState): PhotoDatabase[] {
  const set = new Set<PhotoDatabase>(state.zones.map((zone) => zone.database));
  return [...set];
}
