import { afterEach, describe, expect, it } from "vitest";
import { PhotosService } from "../../../src/icloud/photos/photos-service.ts";
import type { PhotosSyncState } from "../../../src/icloud/photos/sync-state.ts";
import type { PhotoZone } from "../../../src/icloud/photos/types.ts";
import type { Logger } from "../../../src/logger.ts";
import { type PhotosWorld, photosWorld } from "../../support/photos-world.ts";

let world: PhotosWorld | undefined;
afterEach(async () => {
  await world?.sim.close();
  world = undefined;
});

type Line = [string, string, Record<string, unknown> | undefined];

/** A photos service whose warnings and infos are kept, and its baseline state. */
async function setup(photos: Record<string, unknown> = { count: 8, seed: 41 }) {
  const w = await photosWorld(photos);
  world = w;
  const lines: Line[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (m, c) => void lines.push(["info", m, c]),
    warn: (m, c) => void lines.push(["warn", m, c]),
    error: (m, c) => void lines.push(["error", m, c]),
    child: () => log,
  };
  const service = new PhotosService(w.session, { logger: log, includeShared: false });
  const state = (await service.newAssets(undefined)).nextState;
  const primary = state.zones[0];
  if (!primary) throw new Error("no zone");
  const zone: PhotoZone = { database: primary.database, zoneID: primary.zoneID };
  lines.length = 0;
  return { w, service, state, primary, zone, lines };
}

const KEY = (zone: PhotoZone) => `${zone.database}/${zone.zoneID.zoneName}/${zone.zoneID.ownerRecordName ?? ""}`;

describe("readChanges", () => {
  it("reads the new photos of a zone and moves its token on; keeps the check's database tokens", async () => {
    const { w, service, state, primary, zone } = await setup();
    const [added] = w.control.addPhotos(w.dsid, 1);
    const databaseTokens = { private: "db-token-from-the-check" };
    const changes = await service.newAssets(state, { changed: true, zones: [zone], databaseTokens });
    expect(changes.assets.map((a) => a.asset.id)).toEqual([added?.assetRecordName]);
    expect(changes.deleted).toEqual([]);
    expect(changes.resync).toBe(false);
    expect(changes.resyncZones).toEqual([]);
    expect(changes.nextState.databases).toEqual(databaseTokens);
    expect(changes.nextState.zones).toHaveLength(1);
    const next = changes.nextState.zones[0];
    expect(next?.zoneID).toEqual(primary.zoneID);
    expect(next?.syncToken).toEqual(expect.any(String));
    expect(next?.syncToken).not.toBe(primary.syncToken);
    // From the new token: nothing more.
    const again = await service.newAssets(changes.nextState, { changed: true, zones: [zone], databaseTokens });
    expect(again.assets).toEqual([]);
    expect(again.nextState.zones[0]?.syncToken).toBe(next?.syncToken);
  });

  it("reads a zone named twice in the check once", async () => {
    const { w, service, state, zone } = await setup();
    w.control.addPhotos(w.dsid, 1);
    const before = w.served("photos.changes.zone");
    const changes = await service.newAssets(state, {
      changed: true,
      zones: [zone, { ...zone, zoneID: { ...zone.zoneID } }],
      databaseTokens: state.databases,
    });
    expect(changes.assets).toHaveLength(1);
    expect(w.served("photos.changes.zone") - before).toBe(1);
  });

  it("follows a new zone from its current token (zones/list read once per database); an unlisted one is not followed", async () => {
    const { w, service, state, primary, zone, lines } = await setup();
    const unknown: PhotoZone = { database: "private", zoneID: { zoneName: "SharedSync-00000000-NOPE" } };
    const empty: PhotosSyncState = { ...state, zones: [] };
    const lists = w.served("photos.zones.list");
    const feeds = w.served("photos.changes.zone");
    const changes = await service.newAssets(empty, {
      changed: true,
      zones: [unknown, zone],
      databaseTokens: state.databases,
    });
    expect(changes.assets).toEqual([]);
    expect(changes.nextState.zones).toEqual([primary]);
    expect(w.served("photos.zones.list") - lists).toBe(1);
    expect(w.served("photos.changes.zone") - feeds).toBe(0);
    expect(lines).toEqual([
      ["info", "following new photo library zone", { zone: KEY(unknown) }],
      ["info", "following new photo library zone", { zone: KEY(zone) }],
    ]);
  });

  it("drops a zone that is gone, with a warning", async () => {
    const { w, service, state, zone, lines } = await setup();
    w.control.injectZoneError(w.dsid, { serverErrorCode: "ZONE_NOT_FOUND" });
    const changes = await service.newAssets(state, { changed: true, zones: [zone], databaseTokens: state.databases });
    expect(changes.nextState.zones).toEqual([]);
    expect(changes.resync).toBe(false);
    expect(lines).toContainEqual(["warn", "photo library zone is gone, no longer followed", { zone: KEY(zone) }]);
  });

  it("a rejected token: resync from the zone's current token, or drop the zone when it has none", async () => {
    const { w, service, state, primary, zone, lines } = await setup();
    w.control.addPhotos(w.dsid, 2);
    w.control.injectZoneError(w.dsid, { serverErrorCode: "BAD_REQUEST" });
    const changes = await service.newAssets(state, { changed: true, zones: [zone], databaseTokens: state.databases });
    expect(changes.resync).toBe(true);
    expect(changes.resyncZones).toEqual([{ database: "private", zoneID: primary.zoneID }]);
    expect(changes.assets).toEqual([]);
    expect(changes.nextState.zones).toHaveLength(1);
    expect(changes.nextState.zones[0]?.syncToken).not.toBe(primary.syncToken);
    expect(lines).toContainEqual([
      "warn",
      "CloudKit rejected the stored zone token; full resync needed",
      { zone: KEY(zone) },
    ]);

    w.control.injectZoneError(w.dsid, { serverErrorCode: "BAD_REQUEST" });
    w.sim.faults.add({ endpoint: "photos.zones.list", kind: "status", status: 200, body: { zones: [] }, times: 1 });
    const dropped = await service.newAssets(state, { changed: true, zones: [zone], databaseTokens: state.databases });
    expect(dropped.resync).toBe(true);
    expect(dropped.nextState.zones).toEqual([]);
  });
});
