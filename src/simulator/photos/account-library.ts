/** One account's photo library: its zones, database change counters, indexing state and test knobs. */

import { hashString, mix } from "../prng.ts";
import { FLAG_DELETED, FLAG_EXPUNGED, FLAG_FAVORITE, FLAG_HIDDEN } from "./item-types.ts";
import { derivedUuid, userRecordName } from "./names.ts";
import { libraryOptions, type PhotosScenario } from "./scenario.ts";
import { ZoneLibrary } from "./zone-library.ts";

export type Database = "private" | "shared";

export interface ZoneFault {
  /** Zone the fault applies to (any zone when omitted). */
  zoneName?: string;
  serverErrorCode: string;
  reason: string;
  /** How many more `changes/zone` answers carry the fault. */
  remaining: number;
}

export interface PlacedZone {
  database: Database;
  library: ZoneLibrary;
}

export type AssetChange = "hide" | "unhide" | "delete" | "restore" | "expunge" | "favorite" | "unfavorite";

const CHANGE_FLAGS: Record<AssetChange, { set: number; clear: number }> = {
  hide: { set: FLAG_HIDDEN, clear: 0 },
  unhide: { set: 0, clear: FLAG_HIDDEN },
  delete: { set: FLAG_DELETED, clear: 0 },
  restore: { set: 0, clear: FLAG_DELETED },
  expunge: { set: FLAG_EXPUNGED, clear: 0 },
  favorite: { set: FLAG_FAVORITE, clear: 0 },
  unfavorite: { set: 0, clear: FLAG_FAVORITE },
};

export function defaultFaultReason(code: string): string {
  if (code === "RETRY_LATER" || code === "TRY_AGAIN_LATER")
    return "Request failed with retryable error, please retry later";
  if (code === "THROTTLED") return "Request was throttled";
  return code;
}

/** Most photos one `new_photo_every` catch-up adds (the rest follow on later requests). */
const MAX_CATCH_UP = 10_000;
/** `new_photo_every` stops adding once a zone holds this many assets. */
const MAX_ZONE_ASSETS = 250_000;

export class AccountLibrary {
  readonly dsid: string;
  readonly scenario: PhotosScenario;
  readonly ownerRecordName: string;
  readonly zones: PlacedZone[] = [];
  readonly createdAt: number;
  indexing: { state: string; progress: number };
  readonly zoneFaults: ZoneFault[] = [];
  readonly #dbSeq: Record<Database, number> = { private: 0, shared: 0 };
  readonly #zoneDbSeq = new Map<ZoneLibrary, number>();
  readonly #newPhotoEvery: number | undefined;
  #scheduledAdded = 0;

  constructor(dsid: string, scenario: PhotosScenario, now: number) {
    this.dsid = dsid;
    this.scenario = scenario;
    this.createdAt = now;
    const accountKey = hashString(dsid);
    this.ownerRecordName = userRecordName(accountKey);
    this.indexing = {
      state: scenario.indexing,
      progress: scenario.indexing === "FINISHED" ? 100 : scenario.indexing_progress,
    };
    this.#newPhotoEvery = scenario.new_photo_every;
    for (const fault of scenario.zone_errors) {
      this.zoneFaults.push({
        serverErrorCode: fault.server_error_code,
        reason: fault.reason ?? defaultFaultReason(fault.server_error_code),
        remaining: fault.times,
        ...(fault.zone_name === undefined ? {} : { zoneName: fault.zone_name }),
      });
    }
    if (!scenario.enabled) return;
    const primary = new ZoneLibrary(
      { zoneName: "PrimarySync", ownerRecordName: this.ownerRecordName, zoneType: "REGULAR_CUSTOM_ZONE" },
      0,
      libraryOptions(scenario),
    );
    primary.generate(now);
    this.#place("private", primary);
    const shared = scenario.shared_library;
    if (shared) {
      const seed = shared.seed ?? mix(scenario.seed, 0x54a7e);
      const owner = shared.owned ? this.ownerRecordName : userRecordName(mix(accountKey, 0x07e4));
      const zoneName = `SharedSync-${derivedUuid(seed, 0x2011e)}`;
      const lib = new ZoneLibrary(
        { zoneName, ownerRecordName: owner, zoneType: "REGULAR_CUSTOM_ZONE" },
        1,
        libraryOptions(scenario, { count: shared.count, seed }),
      );
      lib.generate(now);
      this.#place(shared.owned ? "private" : "shared", lib);
    }
  }

  #place(database: Database, library: ZoneLibrary): void {
    this.zones.push({ database, library });
    this.#touch(database, library);
  }

  #touch(database: Database, library: ZoneLibrary): void {
    this.#dbSeq[database]++;
    this.#zoneDbSeq.set(library, this.#dbSeq[database]);
  }

  databaseHead(database: Database): number {
    return this.#dbSeq[database];
  }

  /** Database-level key for database sync tokens. */
  databaseKey(database: Database): number {
    return mix(hashString(this.dsid), database === "private" ? 1 : 2, 0xdb);
  }

  zoneChangedAt(library: ZoneLibrary): number {
    return this.#zoneDbSeq.get(library) ?? 0;
  }

  zonesIn(database: Database): PlacedZone[] {
    return this.zones.filter((z) => z.database === database);
  }

  findZone(database: Database, zoneName: string | undefined): ZoneLibrary | undefined {
    return this.zones.find((z) => z.database === database && z.library.zone.zoneName === zoneName)?.library;
  }

  /** Materialises photos due under `new_photo_every` up to the simulator time `now`. */
  tick(now: number): void {
    const every = this.#newPhotoEvery;
    const primary = this.zones[0];
    if (every === undefined || !primary) return;
    // Bounded catch-up: a clock jump of years with a short interval must not create millions.
    const room = Math.max(0, MAX_ZONE_ASSETS - primary.library.count);
    const due = Math.min(
      Math.floor((now - this.createdAt) / every),
      this.#scheduledAdded + Math.min(MAX_CATCH_UP, room),
    );
    if (due <= this.#scheduledAdded) return;
    const first = this.#scheduledAdded + 1;
    primary.library.addAssets(due - this.#scheduledAdded, (k) => this.createdAt + (first + k) * every, false);
    this.#scheduledAdded = due;
    this.#touch(primary.database, primary.library);
  }

  /** Adds `n` photos now (runtime control); returns the new assets' indexes. */
  addPhotos(n: number, now: number, zoneName = "PrimarySync"): { zone: ZoneLibrary; first: number; count: number } {
    const placed = this.zones.find((z) => z.library.zone.zoneName === zoneName);
    if (!placed) throw new Error(`no zone ${zoneName} for account ${this.dsid}`);
    const first = placed.library.addAssets(n, (k) => now - n + 1 + k, false);
    this.#touch(placed.database, placed.library);
    return { zone: placed.library, first, count: n };
  }

  /** Applies a change (hide, delete to Recently Deleted, expunge, …) to an asset by index. */
  changeAsset(zone: ZoneLibrary, idx: number, change: AssetChange, now: number): boolean {
    const { set, clear } = CHANGE_FLAGS[change];
    const changed = zone.update(idx, set, clear, now);
    const placed = this.zones.find((z) => z.library === zone);
    if (changed && placed) this.#touch(placed.database, zone);
    return changed;
  }

  /** Takes one pending zone fault for `zoneName`, if any. */
  takeZoneFault(zoneName: string): ZoneFault | undefined {
    const fault = this.zoneFaults.find((f) => f.remaining > 0 && (f.zoneName === undefined || f.zoneName === zoneName));
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.zoneFaults.splice(this.zoneFaults.indexOf(fault), 1);
    return fault;
  }
}
