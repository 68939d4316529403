import type { Logger } from "../../logger.ts";
import type { CloudKitClient } from "./cloudkit-client.ts";
import { type PhotosSyncState, type ZoneState, zoneKey } from "./sync-state.ts";
import type { PhotoDatabase, PhotoItem, PhotoRemoval, PhotoZone } from "./types.ts";
import { readZoneFeed } from "./zone-changes.ts";

/** Result of the cheap "did anything change?" check. */
export interface ChangeCheck {
  changed: boolean;
  /** Library zones reported as changed (followed ones, or zones that appeared since). */
  zones: PhotoZone[];
  /** Database tokens after the check; stored with the zone tokens in `nextState`. */
  databaseTokens: PhotosSyncState["databases"];
}

export interface PhotoChanges {
  /** Items created or changed since the state (visible, hidden and favourite flags on the asset). */
  assets: PhotoItem[];
  /** Hard-deleted records (tombstones) and items moved to Recently Deleted. */
  deleted: PhotoRemoval[];
  /**
   * True when CloudKit rejected a stored zone token (`BAD_REQUEST`): the zone was re-baselined in
   * `nextState` and the caller should reconcile with a full `enumerate`.
   */
  resync: boolean;
  /** The zones that were re-baselined (see `resync`): reconcile these with `enumerate`. */
  resyncZones: PhotoZone[];
  /** Persist only after the changes were processed. */
  nextState: PhotosSyncState;
}

export interface ReadChangesOptions {
  log: Logger;
  /** For a zone without stored token: `baseline` = start from its current token, `all` = read its whole feed. */
  newZone: "baseline" | "all";
  /** `zones/list` of one database (current zone tokens), fetched at most once per database. */
  zoneTokens: (database: PhotoDatabase) => Promise<(PhotoZone & { syncToken?: string })[]>;
  signal?: AbortSignal;
}

/**
 * Reads the change feeds of the zones `check` named. Throws on the first failed page (RATE_LIMITED for
 * `RETRY_LATER`/`THROTTLED`, or what the transport raised); nothing of a failed call is meant to be stored.
 */
export async function readChanges(
  client: CloudKitClient,
  state: PhotosSyncState,
  check: ChangeCheck,
  options: ReadChangesOptions,
): Promise<PhotoChanges> {
  const zones = new Map<string, ZoneState>(state.zones.map((zone) => [zoneKey(zone), zone]));
  const result: PhotoChanges = {
    assets: [],
    deleted: [],
    resync: false,
    resyncZones: [],
    nextState: { version: 1, databases: { ...check.databaseTokens }, zones: [] },
  };
  const listed = new Map<PhotoDatabase, Promise<(PhotoZone & { syncToken?: string })[]>>();
  const currentToken = async (zone: PhotoZone): Promise<string | undefined> => {
    let list = listed.get(zone.database);
    if (!list) {
      list = options.zoneTokens(zone.database);
      listed.set(zone.database, list);
    }
    return (await list).find((z) => zoneKey(z) === zoneKey(zone))?.syncToken;
  };
  const seen = new Set<string>();
  for (const zone of check.zones) {
    const key = zoneKey(zone);
    if (seen.has(key)) continue;
    seen.add(key);
    const known = zones.get(key);
    if (!known && options.newZone === "baseline") {
      const token = await currentToken(zone);
      if (token) zones.set(key, { database: zone.database, zoneID: zone.zoneID, syncToken: token });
      options.log.info("following new photo library zone", { zone: key });
      continue;
    }
    const feed = await readZoneFeed(client, known ?? zone, known?.syncToken, options.log, options.signal);
    if (feed.kind === "gone") {
      options.log.warn("photo library zone is gone, no longer followed", { zone: key });
      zones.delete(key);
      continue;
    }
    if (feed.kind === "resync") {
      options.log.warn("CloudKit rejected the stored zone token; full resync needed", { zone: key });
      result.resync = true;
      result.resyncZones.push({ database: zone.database, zoneID: (known ?? zone).zoneID });
      const token = await currentToken(zone);
      if (token) zones.set(key, { database: zone.database, zoneID: zone.zoneID, syncToken: token });
      else zones.delete(key);
      continue;
    }
    result.assets.push(...feed.items);
    result.deleted.push(...feed.removals);
    const token = feed.syncToken ?? known?.syncToken;
    if (token) zones.set(key, { database: zone.database, zoneID: (known ?? zone).zoneID, syncToken: token });
  }
  result.nextState.zones = [...zones.values()];
  return result;
}
