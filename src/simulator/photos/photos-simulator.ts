/**
 * The photo service of one simulator instance: account libraries built lazily from the scenario,
 * plus the run-time control API used by tests, the demo and the `/__sim/photos/*` admin routes.
 */
import type { SimServiceContext } from "../context.ts";
import { AccountLibrary, type AssetChange, defaultFaultReason } from "./account-library.ts";
import { assetRecordName, decodeAssetRecordName, decodeMasterRecordName, masterRecordName } from "./names.ts";
import { parsePhotosScenario } from "./scenario.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export interface AddedPhoto {
  zoneName: string;
  assetRecordName: string;
  masterRecordName: string;
}

export class PhotosSimulator {
  readonly ctx: SimServiceContext;
  readonly #libraries = new Map<string, AccountLibrary>();
  /** Simulator time when the service started: libraries end (and `new_photo_every` counts) from here. */
  readonly startedAt: number;

  constructor(ctx: SimServiceContext) {
    this.ctx = ctx;
    this.startedAt = ctx.clock.now();
  }

  /** The account's library, created on first use and advanced to the simulator time. */
  library(dsid: string): AccountLibrary | undefined {
    let library = this.#libraries.get(dsid);
    if (!library) {
      const account = this.ctx.accounts().find((a) => a.dsid === dsid);
      if (!account) return undefined;
      const started = performance.now();
      library = new AccountLibrary(dsid, parsePhotosScenario(account.services.photos), this.startedAt);
      this.#libraries.set(dsid, library);
      this.ctx.log.debug("photo library generated", {
        dsid,
        zones: library.zones.map((z) => `${z.database}/${z.library.zone.zoneName}:${z.library.count}`),
        ms: Math.round(performance.now() - started),
      });
    }
    library.tick(this.ctx.clock.now());
    return library;
  }

  #require(dsid: string): AccountLibrary {
    const library = this.library(dsid);
    if (!library) throw new Error(`no simulator account with dsid ${dsid}`);
    return library;
  }

  /** Adds `count` new photos (added "now" on the simulator clock) and returns their record names. */
  addPhotos(dsid: string, count: number, zoneName = "PrimarySync"): AddedPhoto[] {
    const { zone, first } = this.#require(dsid).addPhotos(count, this.ctx.clock.now(), zoneName);
    const out: AddedPhoto[] = [];
    for (let idx = first; idx < first + count; idx++) {
      out.push({
        zoneName,
        assetRecordName: assetRecordName(zone, idx),
        masterRecordName: masterRecordName(zone, idx),
      });
    }
    return out;
  }

  /** Hides, trashes, restores, expunges or (un)favourites a photo by its CPLAsset or CPLMaster record name. */
  changePhoto(dsid: string, recordName: string, change: AssetChange): boolean {
    const library = this.#require(dsid);
    for (const { library: zone } of library.zones) {
      const idx = findAsset(zone, recordName);
      if (idx !== undefined) return library.changeAsset(zone, idx, change, this.ctx.clock.now());
    }
    return false;
  }

  /** Record names of the visible photos in a zone, in capture-date order (handy for tests). */
  visiblePhotos(dsid: string, zoneName = "PrimarySync"): AddedPhoto[] {
    const zone = this.#require(dsid).zones.find((z) => z.library.zone.zoneName === zoneName)?.library;
    if (!zone) return [];
    const order = zone.view("assetDate:visible", (i) => zone.isVisible(i), zone.assetDate);
    return Array.from(order, (idx) => ({
      zoneName,
      assetRecordName: assetRecordName(zone, idx),
      masterRecordName: masterRecordName(zone, idx),
    }));
  }

  /** The next `times` `changes/zone` answers for the zone (all zones when omitted) carry this error. */
  injectZoneError(
    dsid: string,
    fault: { serverErrorCode: string; reason?: string; zoneName?: string; times?: number },
  ): void {
    this.#require(dsid).zoneFaults.push({
      serverErrorCode: fault.serverErrorCode,
      reason: fault.reason ?? defaultFaultReason(fault.serverErrorCode),
      remaining: fault.times ?? 1,
      ...(fault.zoneName === undefined ? {} : { zoneName: fault.zoneName }),
    });
  }

  setIndexing(dsid: string, state: string, progress?: number): void {
    this.#require(dsid).indexing = { state, progress: progress ?? (state === "FINISHED" ? 100 : 0) };
  }

  /** Zone names and sync-token heads per zone (for tests and the demo). */
  zoneNames(dsid: string): string[] {
    return this.#require(dsid).zones.map((z) => z.library.zone.zoneName);
  }
}

export function findAsset(zone: ZoneLibrary, recordName: string): number | undefined {
  return decodeAssetRecordName(zone, recordName) ?? decodeMasterRecordName(zone, recordName);
}

const instances = new Set<WeakRef<PhotosSimulator>>();
const byContext = new WeakMap<SimServiceContext, PhotosSimulator>();

export function photosSimulatorFor(ctx: SimServiceContext): PhotosSimulator {
  let sim = byContext.get(ctx);
  if (!sim) {
    sim = new PhotosSimulator(ctx);
    byContext.set(ctx, sim);
    instances.add(new WeakRef(sim));
  }
  return sim;
}

/** The photo service of the running simulator whose origin matches `url` (e.g. the handle's `url`). */
export function findPhotosSimulator(url: string): PhotosSimulator | undefined {
  const origin = new URL(url).origin;
  for (const ref of instances) {
    const sim = ref.deref();
    if (!sim) {
      instances.delete(ref);
      continue;
    }
    if (safeOrigin(sim.ctx) === origin) return sim;
  }
  return undefined;
}

function safeOrigin(ctx: SimServiceContext): string | undefined {
  try {
    return new URL(ctx.origin()).origin;
  } catch {
    return undefined;
  }
}
