import type { Downloader } from "../../../icloud/photos/downloader.ts";
import { archiveAsset } from "../../../icloud/photos/library-files.ts";
import { type LibraryZone, PhotosService } from "../../../icloud/photos/photos-service.ts";
import type { PhotosSyncState } from "../../../icloud/photos/sync-state.ts";
import type { IcplAsset, PhotoItem, PhotoZone } from "../../../icloud/photos/types.ts";
import type { ServiceTransport } from "../../../icloud/service-transport.ts";
import type { Logger } from "../../../logger.ts";
import { byCodeUnits } from "../../../util/compare.ts";
import type { PhotosConfig } from "./config.ts";
import { indexFileFor, libraryZones, type OpenLibrary, openLibrary } from "./library.ts";
import type { LibraryMirror } from "./mirror.ts";
import type { PendingDownload, PhotosState } from "./state.ts";

const ANNOUNCED_KEPT = 500;
/** Failed downloads kept for retrying; past this the oldest are given up (logged as errors). */
const PENDING_KEPT = 1000;
/** Items a resync reconciliation reads at most, newest added first. */
const RESYNC_MAX = 1000;
const THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024;

export function pendingOf(item: PhotoItem): PendingDownload {
  const owner = item.zone.zoneID.ownerRecordName;
  return {
    id: item.asset.id,
    master_id: item.asset.master_id,
    database: item.zone.database,
    zone: item.zone.zoneID.zoneName,
    ...(owner ? { owner } : {}),
  };
}

function zoneOf(pending: PendingDownload): PhotoZone {
  return {
    database: pending.database,
    zoneID: { zoneName: pending.zone, ...(pending.owner ? { ownerRecordName: pending.owner } : {}) },
  };
}

export interface PhotosPoll {
  /**
   * Items new since the last poll, oldest added first. An item is announced once, when it is first
   * seen, even if its download failed on this poll: the download is retried on later polls (kept in
   * `pending_downloads`) and consumers learn of the photo without waiting for a file that may take
   * several polls to arrive.
   */
  fresh: IcplAsset[];
  latest: { asset: IcplAsset; thumbnail: Buffer | null } | null;
  /** Downloads still failing after this poll (kept in `pending_downloads`, retried on the next polls). */
  failedDownloads: number;
  count: number | null;
  /** The library changed since the last poll (new, changed or removed items). */
  changed: boolean;
  /** A zone's change feed had to be read again from scratch: a library download should check it all again. */
  resync: boolean;
  /** Apply to the engine state once the results were handed on. */
  commit: () => void;
}

/**
 * New photos for one account: a cheap "anything changed?" first, the change feed only when it
 * says so, downloads when enabled, and the thumbnail of the newest item for the image entity.
 *
 * What is "new" comes from the sync tokens (CloudKit's change feed), not from dates: `addedDate` is
 * set on the device, so a photo from a device that was offline, a Shared Library addition by someone
 * else or two photos in the same second can carry an older date than one already seen. The date
 * watermark only bounds the first run; the `announced` set guards against repeats after a crash.
 */
export class PhotosJob {
  readonly #service: PhotosService;
  readonly #transport: ServiceTransport;
  readonly #config: PhotosConfig;
  readonly #log: Logger;
  readonly #stateDir: string;
  readonly #account: string;
  #library: OpenLibrary | undefined;

  constructor(
    transport: ServiceTransport,
    config: PhotosConfig,
    options: { stateDir: string; account: string; log: Logger },
  ) {
    this.#transport = transport;
    this.#config = config;
    this.#log = options.log;
    this.#stateDir = options.stateDir;
    this.#account = options.account;
    this.#service = new PhotosService(transport, {
      logger: options.log,
      firstRun: config.announce_existing ? "all" : "baseline",
      includeShared: config.library !== "private",
    });
  }

  get service(): PhotosService {
    return this.#service;
  }

  async poll(state: PhotosState, signal?: AbortSignal): Promise<PhotosPoll> {
    const sync: PhotosSyncState | undefined = state.sync ?? undefined;
    const firstRun = sync === undefined;
    let watermark = state.watermark;
    let newestKnown: PhotoItem | undefined;
    if (firstRun && !this.#config.announce_existing) {
      for await (const item of this.#service.enumerate({ order: "desc", pageSize: 2, ...(signal ? { signal } : {}) })) {
        newestKnown = item;
        break;
      }
      watermark = newestKnown?.asset.date_uploaded ?? watermark;
    }
    let items: PhotoItem[] = [];
    /** The feed reported changed or removed items: the count may have moved without anything new. */
    let changedAny = false;
    let resync = false;
    const removedIds: string[] = [];
    let nextState = sync;
    const announced = new Set(state.announced);
    const check = sync === undefined ? undefined : await this.#service.hasChanges(sync, signal);
    if (check === undefined || check.changed) {
      const changes = await this.#service.newAssets(sync, check, signal);
      nextState = changes.nextState;
      items = changes.assets;
      changedAny = changes.assets.length > 0 || changes.deleted.length > 0;
      removedIds.push(...changes.deleted.map((removal) => removal.id));
      resync = changes.resync;
      if (changes.resync) {
        const latestId = state.latest?.id;
        const recovered = await this.#reconcile(changes.resyncZones, announced, latestId, watermark, signal);
        items = [...items, ...recovered];
        changedAny = true;
      }
    } else if (sync !== undefined) {
      nextState = { ...sync, databases: check.databaseTokens };
    }
    const byId = new Map<string, PhotoItem>();
    for (const item of items) {
      if (item.deleted || item.asset.hidden || announced.has(item.asset.id)) continue;
      // The date watermark bounds only the first run (a lost sync state must not flood consumers);
      // afterwards the change feed decides, whatever `addedDate` the device put on the photo.
      if (firstRun && watermark !== null && item.asset.date_uploaded <= watermark) continue;
      byId.set(item.asset.id, item);
    }
    const fresh = [...byId.values()].sort((a, b) => byCodeUnits(a.asset.date_uploaded, b.asset.date_uploaded));
    if (this.#config.download.enabled && this.#config.download.on_delete === "archive") {
      await this.#archive([...removedIds, ...items.filter((item) => item.asset.hidden).map((item) => item.asset.id)]);
    }
    const pending = this.#config.download.enabled
      ? await this.#downloads(fresh, state.pending_downloads, signal)
      : state.pending_downloads;
    const newest = fresh.at(-1) ?? newestKnown;
    const latest = newest ? { asset: newest.asset, thumbnail: await this.#thumbnail(newest) } : null;
    const count = changedAny || state.count === null ? await this.#service.count() : state.count;
    const newestDate = newest?.asset.date_uploaded;
    const nextWatermark =
      newestDate !== undefined && (watermark === null || newestDate > watermark) ? newestDate : watermark;
    return {
      fresh: fresh.map((item) => item.asset),
      latest,
      count,
      changed: changedAny || firstRun,
      resync,
      failedDownloads: this.#config.download.enabled ? pending.length : 0,
      commit: () => {
        state.sync = nextState ?? null;
        state.watermark = nextWatermark;
        if (latest) state.latest = latest.asset;
        state.count = count;
        state.announced = [...state.announced, ...fresh.map((item) => item.asset.id)].slice(-ANNOUNCED_KEPT);
        state.pending_downloads = pending;
      },
    };
  }

  /**
   * After CloudKit rejected a zone token (the zone was re-baselined): reads the zone newest added
   * first until the first item already announced (or the newest known one), at most `RESYNC_MAX`
   * items, and returns what it passed. Without such an anchor it keeps only items added after the
   * watermark, so a resync never floods consumers with the whole library. Items added meanwhile with
   * an older `addedDate` than the anchor cannot be told apart from old ones here and are not recovered.
   */
  async #reconcile(
    zones: readonly PhotoZone[],
    announced: ReadonlySet<string>,
    latestId: string | undefined,
    watermark: string | null,
    signal?: AbortSignal,
  ): Promise<PhotoItem[]> {
    const out: PhotoItem[] = [];
    for (const zone of zones) {
      const passed: PhotoItem[] = [];
      let anchored = false;
      for await (const item of this.#service.enumerate({ order: "desc", ...(signal ? { signal } : {}) }, zone)) {
        if (announced.has(item.asset.id) || item.asset.id === latestId) {
          anchored = true;
          break;
        }
        passed.push(item);
        if (passed.length >= RESYNC_MAX) break;
      }
      const kept = anchored
        ? passed
        : passed.filter((item) => watermark === null || item.asset.date_uploaded > watermark);
      this.#log.warn("photo sync token rejected; reconciled the library from its newest items", {
        zone: zone.zoneID.zoneName,
        read: passed.length,
        recovered: kept.length,
        anchored,
      });
      out.push(...kept);
    }
    return out;
  }

  /**
   * Downloads the fresh items and retries earlier failures. Returns the downloads still pending:
   * failures stay until they succeed, an item no longer in the library is dropped.
   */
  async #downloads(
    fresh: readonly PhotoItem[],
    pending: readonly PendingDownload[],
    signal?: AbortSignal,
  ): Promise<PendingDownload[]> {
    const downloader = await this.#getDownloader();
    const options = signal ? { signal } : {};
    const still = new Map<string, PendingDownload>();
    if (pending.length > 0) {
      const groups = new Map<string, PendingDownload[]>();
      for (const entry of pending) {
        const key = `${entry.database}/${entry.zone}/${entry.owner ?? ""}`;
        groups.set(key, [...(groups.get(key) ?? []), entry]);
      }
      for (const group of groups.values()) {
        const first = group[0];
        if (first === undefined) continue;
        let found: PhotoItem[];
        try {
          found = await this.#service.lookup(zoneOf(first), group, signal);
        } catch (error) {
          if (signal?.aborted) throw error;
          this.#log.warn("could not look up photos whose download failed; retrying on the next poll", {
            count: group.length,
            error: error instanceof Error ? error.message : String(error),
          });
          for (const entry of group) still.set(entry.id, entry);
          continue;
        }
        const foundIds = new Set(found.map((item) => item.asset.id));
        const gone = group.filter((entry) => !foundIds.has(entry.id));
        if (gone.length > 0)
          this.#log.info("photos no longer in the library, download not retried", { ids: gone.map((e) => e.id) });
        let failed = 0;
        await downloader.run(found, {
          ...options,
          onResult: (result) => {
            if (result.status !== "failed") return;
            failed++;
            const entry = group.find((e) => e.id === result.assetId);
            if (entry) still.set(entry.id, entry);
          },
        });
        this.#log.info("retried failed photo downloads", { retried: found.length, failed });
      }
    }
    if (fresh.length > 0) {
      const byId = new Map(fresh.map((item) => [item.asset.id, item]));
      await downloader.run(fresh, {
        ...options,
        onResult: (result) => {
          const item = byId.get(result.assetId);
          if (result.status === "failed" && item) still.set(result.assetId, pendingOf(item));
        },
      });
    }
    const list = [...still.values()];
    if (list.length > 0) this.#log.warn("photo downloads failed; retrying on the next polls", { count: list.length });
    if (list.length > PENDING_KEPT) {
      const dropped = list.slice(0, list.length - PENDING_KEPT);
      this.#log.error("too many failed photo downloads; giving up on the oldest", {
        count: dropped.length,
        ids: dropped.slice(0, 20).map((e) => e.id),
      });
      return list.slice(-PENDING_KEPT);
    }
    return list;
  }

  /**
   * Moves the files of assets deleted or hidden in iCloud to `_Archive/` (`on_delete: archive`).
   * Only assets the download index knows are touched; a failure is logged and retried when the
   * change comes again (the feed re-delivers it if the poll fails before its state is saved).
   */
  async #archive(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { index, folder } = await this.#open();
    for (const id of new Set(ids)) {
      if (index.filesOf(id).length === 0) continue;
      try {
        await archiveAsset(folder, index, id, this.#log);
      } catch (error) {
        this.#log.warn("could not archive the files of a photo removed from iCloud", {
          asset: id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  /** The zones a library download covers (see `library`). */
  zones(signal?: AbortSignal): Promise<LibraryZone[]> {
    return libraryZones(this.#service, this.#config.library, signal);
  }

  /** The whole-library walker on the job's downloader and index (download must be enabled). */
  async mirror(): Promise<LibraryMirror> {
    return (await this.#open()).mirror;
  }

  async close(): Promise<void> {
    await this.#library?.close();
    this.#library = undefined;
  }

  async #getDownloader(): Promise<Downloader> {
    return (await this.#open()).downloader;
  }

  /** The download folder, opened on first use: its index is locked for this process while it runs. */
  async #open(): Promise<OpenLibrary> {
    if (this.#library) return this.#library;
    const folder = this.#config.download.folder;
    if (folder === null) throw new Error("photos.download.folder is not set");
    this.#library = await openLibrary({
      transport: this.#transport,
      service: this.#service,
      download: this.#config.download,
      folder,
      indexFile: indexFileFor(this.#stateDir, this.#account, folder, folder),
      log: this.#log,
    });
    return this.#library;
  }

  /** JPEG bytes of the item's thumbnail, or null when it has none or the fetch fails. */
  async #thumbnail(item: PhotoItem): Promise<Buffer | null> {
    const file = item.asset.files.find((f) => f.role === "thumbnail");
    const url = file ? item.downloads.get(file.id) : undefined;
    if (!url) return null;
    try {
      const response = await this.#transport.download(url);
      const declared = response.headers["content-length"];
      if (response.status !== 200 || (declared !== undefined && file !== undefined && Number(declared) !== file.size)) {
        response.body.resume();
        return null;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buffer = Buffer.from(chunk as Uint8Array);
        size += buffer.length;
        if (size > THUMBNAIL_MAX_BYTES) {
          response.body.destroy();
          return null;
        }
        chunks.push(buffer);
      }
      // A cut answer is no picture (the record knows the thumbnail's size).
      if (file !== undefined && file.size > 0 && size !== file.size) return null;
      return Buffer.concat(chunks);
    } catch (error) {
      this.#log.warn("could not fetch the thumbnail of the newest photo", {
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }
}
