import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import type { ServiceTransport } from "../service-transport.ts";
import { albumMembers, listAlbums, type PhotoAlbum } from "./albums.ts";
import { CloudKitClient } from "./cloudkit-client.ts";
import {
  BatchResponseSchema,
  DatabaseChangesResponseSchema,
  RecordsResponseSchema,
  ZonesListResponseSchema,
} from "./cloudkit-schemas.ts";
import { type EnumeratedPage, type EnumerateOptions, enumeratePages, enumerateZone } from "./enumerate.ts";
import { type ChangeCheck, type PhotoChanges, type ReadChangesOptions, readChanges } from "./photos-changes.ts";
import { numberField, RecordPairer, stringField, toPhotoItem } from "./records.ts";
import { isLibraryZone, type PhotosSyncState, zoneKey } from "./sync-state.ts";
import type { PhotoDatabase, PhotoItem, PhotoZone } from "./types.ts";
import { lookupRecords } from "./zone-changes.ts";

export type { PhotoAlbum } from "./albums.ts";
export type { ChangeCheck, PhotoChanges } from "./photos-changes.ts";

export interface PhotosServiceOptions {
  logger?: Logger;
  /**
   * What `newAssets` does without a stored state. `baseline` (default): record the current tokens and
   * treat the existing library as known, so the first run does not flood consumers with "new photo"
   * events. `all`: report every existing item as new (reads the whole change feed; large libraries
   * should rather use `enumerate`).
   */
  firstRun?: "baseline" | "all";
  /** Follow Shared Libraries of other owners (shared database). Default true. */
  includeShared?: boolean;
}

export interface LibraryZone extends PhotoZone {
  /** The zone's current token from `zones/list`, when CloudKit gave one. */
  syncToken?: string;
}

export interface IndexingStatus {
  ready: boolean;
  state: string;
  progress?: number;
}

const PRIMARY: PhotoZone = { database: "private", zoneID: { zoneName: "PrimarySync" } };

/** iCloud Photos over CloudKit web services (`com.apple.photos.cloud`), read-only. */
export class PhotosService {
  readonly #client: CloudKitClient;
  readonly #log: Logger;
  readonly #firstRun: "baseline" | "all";
  readonly #includeShared: boolean;

  constructor(transport: ServiceTransport, options: PhotosServiceOptions = {}) {
    this.#log = (options.logger ?? silentLogger).child({ module: "photos" });
    this.#client = new CloudKitClient(transport, { logger: this.#log });
    this.#firstRun = options.firstRun ?? "baseline";
    this.#includeShared = options.includeShared ?? true;
  }

  /** CloudKit requests sent so far (benchmarks, diagnostics). */
  get requestCount(): number {
    return this.#client.requests;
  }

  /** Whether CloudKit has finished indexing the zone; clients must not list before `FINISHED`. */
  async checkIndexing(zone: PhotoZone = PRIMARY): Promise<IndexingStatus> {
    const body = { query: { recordType: "CheckIndexingState" }, zoneID: zone.zoneID };
    const answer = await this.#client.post(zone.database, "/records/query", body, RecordsResponseSchema);
    const record = answer.records[0];
    const state = record ? (stringField(record, "state") ?? "UNKNOWN") : "UNKNOWN";
    const progress = record ? numberField(record, "progress") : undefined;
    return { ready: state === "FINISHED", state, ...(progress === undefined ? {} : { progress }) };
  }

  /** The library zones: `PrimarySync` and `SharedSync-…` in the private and (optionally) shared database. */
  async zones(signal?: AbortSignal): Promise<LibraryZone[]> {
    const zones = await this.#listZones("private", signal);
    if (this.#includeShared) {
      try {
        zones.push(...(await this.#listZones("shared", signal)));
      } catch (error) {
        if (error instanceof EngineError && error.code === "RATE_LIMITED") throw error;
        this.#log.warn("shared database not readable, following the private library only", { error: String(error) });
      }
    }
    return zones;
  }

  async #listZones(database: PhotoDatabase, signal?: AbortSignal): Promise<LibraryZone[]> {
    const answer = await this.#client.post(database, "/zones/list", {}, ZonesListResponseSchema, signal);
    return answer.zones
      .filter((zone) => zone.deleted !== true && !zone.serverErrorCode && isLibraryZone(zone.zoneID.zoneName))
      .map((zone) => {
        const syncToken = zone.syncToken ?? answer.syncToken;
        return { database, zoneID: zone.zoneID, ...(syncToken ? { syncToken } : {}) };
      });
  }

  /** The current `changes/database` token (pages through `moreComing`). */
  async #databaseToken(database: PhotoDatabase, from: string | undefined, signal?: AbortSignal) {
    const changed: PhotoZone[] = [];
    let token = from;
    for (;;) {
      const body = token ? { syncToken: token } : {};
      const answer = await this.#client.post(
        database,
        "/changes/database",
        body,
        DatabaseChangesResponseSchema,
        signal,
      );
      for (const zone of answer.zones) {
        if (isLibraryZone(zone.zoneID.zoneName)) changed.push({ database, zoneID: zone.zoneID });
      }
      if (answer.syncToken) token = answer.syncToken;
      if (!answer.moreComing) return { token, changed };
    }
  }

  /**
   * Tokens for a first run: database tokens first, then zone tokens, so a change in between is
   * reported again on the next poll instead of being skipped.
   */
  async baseline(signal?: AbortSignal): Promise<PhotosSyncState> {
    const databases: PhotosSyncState["databases"] = {};
    databases.private = (await this.#databaseToken("private", undefined, signal)).token;
    // The shared database token is kept even without a Shared Library yet, so joining one later shows
    // up in `changes/database` on the next cheap check.
    if (this.#includeShared) databases.shared = await this.#sharedToken(signal);
    const zones = await this.zones(signal);
    const state: PhotosSyncState = { version: 1, databases: {}, zones: [] };
    for (const db of ["private", "shared"] as const) if (databases[db]) state.databases[db] = databases[db];
    for (const zone of zones) {
      if (zone.syncToken) state.zones.push({ database: zone.database, zoneID: zone.zoneID, syncToken: zone.syncToken });
      else this.#log.warn("zone without sync token, not followed", { zone: zoneKey(zone) });
    }
    return state;
  }

  /**
   * The cheap check: one `changes/database` per followed database (one request for most accounts).
   * Without a stored database token it compares `zones/list` tokens instead.
   */
  async hasChanges(state: PhotosSyncState, signal?: AbortSignal): Promise<ChangeCheck> {
    const databases = new Set<PhotoDatabase>(["private", ...state.zones.map((zone) => zone.database)]);
    // Always look at the shared database too: a Shared Library joined after the baseline is a new zone there.
    if (this.#includeShared) databases.add("shared");
    const zones: PhotoZone[] = [];
    const tokens: PhotosSyncState["databases"] = { ...state.databases };
    for (const database of databases) {
      const stored = state.databases[database];
      if (stored) {
        const result = await this.#databaseToken(database, stored, signal);
        zones.push(...result.changed);
        if (result.token) tokens[database] = result.token;
        continue;
      }
      // No token yet (older state, or the database was unreadable): take one now, then compare the
      // zone tokens, so a change in between is reported again on the next check rather than missed.
      try {
        const token =
          database === "shared"
            ? await this.#sharedToken(signal)
            : (await this.#databaseToken(database, undefined, signal)).token;
        if (token) tokens[database] = token;
        for (const zone of await this.#listZones(database, signal)) {
          const known = state.zones.find((z) => zoneKey(z) === zoneKey(zone));
          if (!known || zone.syncToken !== known.syncToken) zones.push({ database, zoneID: zone.zoneID });
        }
      } catch (error) {
        if (database !== "shared" || (error instanceof EngineError && error.code === "RATE_LIMITED")) throw error;
        this.#log.debug("shared database not readable", { error: String(error) });
      }
    }
    return { changed: zones.length > 0, zones, databaseTokens: tokens };
  }

  /** The shared database's current token, or undefined when it cannot be read (rate limits rethrown). */
  async #sharedToken(signal?: AbortSignal): Promise<string | undefined> {
    try {
      return (await this.#databaseToken("shared", undefined, signal)).token;
    } catch (error) {
      if (error instanceof EngineError && error.code === "RATE_LIMITED") throw error;
      this.#log.debug("shared database not readable", { error: String(error) });
      return undefined;
    }
  }

  /**
   * New, changed and removed items since `state` (see {@link readChanges}). Without a state, applies
   * the `firstRun` policy. Persist `nextState` only after processing the result.
   */
  async newAssets(
    state: PhotosSyncState | undefined,
    check?: ChangeCheck,
    signal?: AbortSignal,
  ): Promise<PhotoChanges> {
    const options = (newZone: "baseline" | "all"): ReadChangesOptions => ({
      log: this.#log,
      newZone,
      zoneTokens: (database) => this.#listZones(database, signal),
      ...(signal === undefined ? {} : { signal }),
    });
    if (state !== undefined) {
      return readChanges(this.#client, state, check ?? (await this.hasChanges(state, signal)), options(this.#firstRun));
    }
    const baseline = await this.baseline(signal);
    if (this.#firstRun === "baseline")
      return { assets: [], deleted: [], resync: false, resyncZones: [], nextState: baseline };
    // `all`: every followed zone is read from the start of its change feed.
    const zones = baseline.zones.map((zone) => ({ database: zone.database, zoneID: zone.zoneID }));
    const everything: ChangeCheck = { changed: true, zones, databaseTokens: baseline.databases };
    return readChanges(this.#client, { ...baseline, zones: [] }, everything, options("all"));
  }

  /** Number of items in the zone's index (`HyperionIndexCountLookup`). */
  async count(zone: PhotoZone = PRIMARY, indexCountId = "CPLAssetByAssetDateWithoutHiddenOrDeleted"): Promise<number> {
    const query = {
      recordType: "HyperionIndexCountLookup",
      filterBy: {
        fieldName: "indexCountID",
        comparator: "IN",
        fieldValue: { type: "STRING_LIST", value: [indexCountId] },
      },
    };
    const body = { batch: [{ resultsLimit: 1, zoneWide: true, zoneID: zone.zoneID, query }] };
    const answer = await this.#client.post(zone.database, "/internal/records/query/batch", body, BatchResponseSchema);
    const record = answer.batch[0]?.records[0];
    const count = record ? numberField(record, "itemCount") : undefined;
    if (count === undefined) throw new EngineError("UNEXPECTED_RESPONSE", "CloudKit count answer without itemCount");
    return count;
  }

  /** Full listing of one zone as an async iterator, one page in memory at a time. */
  enumerate(options: EnumerateOptions = {}, zone: PhotoZone = PRIMARY): AsyncGenerator<PhotoItem> {
    return enumerateZone(this.#client, zone, options, (id) => this.count(zone, id));
  }

  /** User albums and folders of a zone (`CPLAlbumByPositionLive`). */
  albums(zone: PhotoZone = PRIMARY, signal?: AbortSignal): Promise<PhotoAlbum[]> {
    return listAlbums(this.#client, zone, signal);
  }

  /** Asset record names in an album, page by page (`CPLContainerRelationLiveByAssetDate`). */
  albumMembers(albumId: string, zone: PhotoZone = PRIMARY, signal?: AbortSignal): AsyncGenerator<string[]> {
    return albumMembers(this.#client, zone, albumId, signal);
  }

  /** Full listing of one zone page by page, each page saying where a resumed walk starts. */
  pages(options: EnumerateOptions = {}, zone: PhotoZone = PRIMARY): AsyncGenerator<EnumeratedPage> {
    return enumeratePages(this.#client, zone, options, (id) => this.count(zone, id));
  }

  /**
   * Items by asset and master record name in one zone (`records/lookup`, 100 items per request), e.g.
   * to retry downloads later. Items CloudKit no longer has, or that are deleted, are left out.
   */
  async lookup(
    zone: PhotoZone,
    refs: readonly { id: string; master_id: string }[],
    signal?: AbortSignal,
  ): Promise<PhotoItem[]> {
    const items: PhotoItem[] = [];
    for (let i = 0; i < refs.length; i += 100) {
      const names = refs.slice(i, i + 100).flatMap((ref) => [ref.master_id, ref.id]);
      const pairer = new RecordPairer();
      for (const record of await lookupRecords(this.#client, zone, [...new Set(names)], signal)) {
        for (const [master, asset] of pairer.add(record)) {
          const item = toPhotoItem(master, asset, zone);
          if (!item.deleted) items.push(item);
        }
      }
    }
    return items;
  }

  /** The item again with fresh download URLs (they expire after about an hour), or undefined when gone. */
  async refresh(item: PhotoItem, signal?: AbortSignal): Promise<PhotoItem | undefined> {
    const records = await lookupRecords(this.#client, item.zone, [item.asset.master_id, item.asset.id], signal);
    const pairer = new RecordPairer();
    for (const record of records) {
      const pair = pairer.add(record)[0];
      if (pair) return toPhotoItem(pair[0], pair[1], item.zone);
    }
    return undefined;
  }
}
