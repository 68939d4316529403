import type { Logger } from "../../logger.ts";
import type { CloudKitClient } from "./cloudkit-client.ts";
import { serverError } from "./cloudkit-client.ts";
import type { CloudKitRecord } from "./cloudkit-schemas.ts";
import { RecordsResponseSchema, ZoneChangesResponseSchema } from "./cloudkit-schemas.ts";
import { DESIRED_KEYS, flag, isTombstone, masterRefOf, RecordPairer, toPhotoItem } from "./records.ts";
import type { PhotoItem, PhotoRemoval, PhotoZone } from "./types.ts";

export const PAGE_RECORDS = 200;

/** The result of reading one zone's change feed from a token to the end. */
export type ZoneFeed =
  | { kind: "ok"; items: PhotoItem[]; removals: PhotoRemoval[]; syncToken: string | undefined }
  /** `BAD_REQUEST` on the token: it is unusable, the caller re-baselines and reconciles. */
  | { kind: "resync" }
  /** `ZONE_NOT_FOUND`: the zone is gone (Shared Library left or deleted). */
  | { kind: "gone" };

function zoneRequest(zone: PhotoZone, syncToken: string | undefined): unknown {
  const entry = {
    zoneID: zone.zoneID,
    // No key at all = from the beginning; "" would mean "caught up", so it is never sent.
    ...(syncToken ? { syncToken } : {}),
    desiredRecordTypes: ["CPLMaster", "CPLAsset"],
    desiredKeys: DESIRED_KEYS,
    reverse: false,
    resultsLimit: PAGE_RECORDS,
  };
  return { zones: [entry], resultsLimit: PAGE_RECORDS };
}

/**
 * Reads `changes/zone` from `syncToken` while `moreComing`, feeding each page's token into the next
 * request. Any failure throws before a token is returned, so a caller can never store a token past a
 * page it did not see. Records are paired across pages; assets whose master did not change are
 * completed with one `records/lookup`.
 */
export async function readZoneFeed(
  client: CloudKitClient,
  zone: PhotoZone,
  syncToken: string | undefined,
  log: Logger,
  signal?: AbortSignal,
): Promise<ZoneFeed> {
  const pairer = new RecordPairer();
  const removals = new Map<string, PhotoRemoval>();
  const items = new Map<string, PhotoItem>();
  let token = syncToken;
  for (;;) {
    const answer = await client.post(
      zone.database,
      "/changes/zone",
      zoneRequest(zone, token),
      ZoneChangesResponseSchema,
      signal,
    );
    const entry = answer.zones.find((z) => z.zoneID.zoneName === zone.zoneID.zoneName) ?? answer.zones[0];
    if (!entry) throw serverError("MISSING_ZONE", "changes/zone answered without the requested zone");
    if (entry.serverErrorCode === "BAD_REQUEST") return { kind: "resync" };
    if (entry.serverErrorCode === "ZONE_NOT_FOUND") return { kind: "gone" };
    if (entry.serverErrorCode) throw serverError(entry.serverErrorCode, entry.reason);
    for (const record of entry.records ?? []) {
      if (record.serverErrorCode) {
        log.warn("CloudKit record error in change feed", { record: record.recordName, code: record.serverErrorCode });
        continue;
      }
      if (isTombstone(record)) {
        removals.set(record.recordName, { id: record.recordName, zone: zone.zoneID.zoneName, reason: "expunged" });
        items.delete(record.recordName);
        continue;
      }
      if (record.recordType === "CPLAsset" && flag(record, "isDeleted")) {
        removals.set(record.recordName, {
          id: record.recordName,
          zone: zone.zoneID.zoneName,
          reason: "recently_deleted",
        });
        items.delete(record.recordName);
        continue;
      }
      if (record.recordType === "CPLAsset") removals.delete(record.recordName);
      for (const [master, asset] of pairer.add(record)) items.set(asset.recordName, toPhotoItem(master, asset, zone));
    }
    if (entry.syncToken) token = entry.syncToken;
    if (entry.moreComing !== true) break;
  }
  const orphans = pairer.orphanAssets().filter((asset) => !removals.has(asset.recordName));
  for (const item of await completeOrphans(client, zone, orphans, signal)) items.set(item.asset.id, item);
  return { kind: "ok", items: [...items.values()], removals: [...removals.values()], syncToken: token };
}

/** Fetches the masters of assets that came without theirs (a favourite toggled, a split page), in batches. */
export async function completeOrphans(
  client: CloudKitClient,
  zone: PhotoZone,
  assets: CloudKitRecord[],
  signal?: AbortSignal,
): Promise<PhotoItem[]> {
  const items: PhotoItem[] = [];
  for (let i = 0; i < assets.length; i += PAGE_RECORDS) {
    const chunk = assets.slice(i, i + PAGE_RECORDS);
    const pairer = new RecordPairer();
    for (const asset of chunk) pairer.add(asset);
    const names = [...new Set(chunk.map((asset) => masterRefOf(asset) ?? ""))].filter((name) => name !== "");
    const masters = await lookupRecords(client, zone, names, signal);
    for (const master of masters) {
      for (const [m, asset] of pairer.add(master)) items.push(toPhotoItem(m, asset, zone));
    }
  }
  return items;
}

/** `records/lookup` by record name; records CloudKit reports as errors (e.g. NOT_FOUND) are skipped. */
export async function lookupRecords(
  client: CloudKitClient,
  zone: PhotoZone,
  recordNames: readonly string[],
  signal?: AbortSignal,
): Promise<CloudKitRecord[]> {
  if (recordNames.length === 0) return [];
  const answer = await client.post(
    zone.database,
    "/records/lookup",
    { records: recordNames.map((recordName) => ({ recordName })), zoneID: zone.zoneID, desiredKeys: DESIRED_KEYS },
    RecordsResponseSchema,
    signal,
  );
  return answer.records.filter((record) => !record.serverErrorCode && record.fields !== undefined);
}
