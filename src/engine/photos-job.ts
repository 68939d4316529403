import { join } from "node:path";
import type { PhotosConfig } from "../config/account-schema.ts";
import { DownloadIndex } from "../icloud/photos/download-index.ts";
import { Downloader } from "../icloud/photos/downloader.ts";
import { PhotosService } from "../icloud/photos/photos-service.ts";
import { type PhotosSyncState, PhotosSyncStateSchema } from "../icloud/photos/sync-state.ts";
import type { IcplAsset, PhotoItem } from "../icloud/photos/types.ts";
import type { ServiceTransport } from "../icloud/service-transport.ts";
import type { Logger } from "../logger.ts";
import type { EngineState } from "./state-store.ts";

const ANNOUNCED_KEPT = 500;
const THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024;

export interface PhotosPoll {
  /** Items new since the last poll, oldest first. */
  fresh: IcplAsset[];
  latest: { asset: IcplAsset; thumbnail: Buffer | null } | null;
  count: number | null;
  /** Apply to the engine state once the results were handed on. */
  commit: () => void;
}

/**
 * New photos for one account: a cheap "anything changed?" first, the change feed only when it
 * says so, downloads when enabled, and the thumbnail of the newest item for the image entity.
 */
export class PhotosJob {
  readonly #service: PhotosService;
  readonly #transport: ServiceTransport;
  readonly #config: PhotosConfig;
  readonly #log: Logger;
  readonly #indexFile: string;
  #downloader: Downloader | undefined;

  constructor(
    transport: ServiceTransport,
    config: PhotosConfig,
    options: { stateDir: string; account: string; log: Logger },
  ) {
    this.#transport = transport;
    this.#config = config;
    this.#log = options.log;
    this.#indexFile = join(options.stateDir, "downloads", `${options.account}.json`);
    this.#service = new PhotosService(transport, {
      logger: options.log,
      firstRun: config.announce_existing ? "all" : "baseline",
      includeShared: config.library !== "private",
    });
  }

  get service(): PhotosService {
    return this.#service;
  }

  async poll(state: EngineState, signal?: AbortSignal): Promise<PhotosPoll> {
    const stored = state.photos.sync === null ? undefined : PhotosSyncStateSchema.safeParse(state.photos.sync);
    const sync: PhotosSyncState | undefined = stored?.success ? stored.data : undefined;
    let watermark = state.photos.watermark;
    let newestKnown: PhotoItem | undefined;
    if (sync === undefined && !this.#config.announce_existing) {
      for await (const item of this.#service.enumerate({ order: "desc", pageSize: 2, ...(signal ? { signal } : {}) })) {
        newestKnown = item;
        break;
      }
      watermark = newestKnown?.asset.date_uploaded ?? watermark;
    }
    let items: PhotoItem[] = [];
    /** The feed reported changed or removed items: the count may have moved without anything new. */
    let changedAny = false;
    let nextState = sync;
    const check = sync === undefined ? undefined : await this.#service.hasChanges(sync, signal);
    if (check === undefined || check.changed) {
      const changes = await this.#service.newAssets(sync, check, signal);
      nextState = changes.nextState;
      if (changes.resync)
        this.#log.warn("iCloud rejected the stored photo sync token; following the library from now on");
      items = changes.assets;
      changedAny = changes.assets.length > 0 || changes.deleted.length > 0;
    } else if (sync !== undefined) {
      nextState = { ...sync, databases: check.databaseTokens };
    }
    const announced = new Set(state.photos.announced);
    const fresh = items
      .filter((item) => !item.deleted && !item.asset.hidden && !announced.has(item.asset.id))
      .filter((item) => watermark === null || item.asset.date_uploaded > watermark)
      .sort((a, b) => a.asset.date_uploaded.localeCompare(b.asset.date_uploaded));
    if (fresh.length > 0 && this.#config.download.enabled)
      await (await this.#getDownloader()).run(fresh, signal ? { signal } : {});
    const newest = fresh.at(-1) ?? newestKnown;
    const latest = newest ? { asset: newest.asset, thumbnail: await this.#thumbnail(newest) } : null;
    const count = changedAny || state.photos.count === null ? await this.#service.count() : state.photos.count;
    return {
      fresh: fresh.map((item) => item.asset),
      latest,
      count,
      commit: () => {
        state.photos.sync = nextState ?? null;
        if (newest) state.photos.watermark = newest.asset.date_uploaded;
        else state.photos.watermark = watermark;
        if (latest) state.photos.latest = latest.asset;
        state.photos.count = count;
        state.photos.announced = [...state.photos.announced, ...fresh.map((item) => item.asset.id)].slice(
          -ANNOUNCED_KEPT,
        );
      },
    };
  }

  async close(): Promise<void> {
    await this.#downloaderIndex?.close();
  }

  #downloaderIndex: DownloadIndex | undefined;

  async #getDownloader(): Promise<Downloader> {
    if (this.#downloader) return this.#downloader;
    const folder = this.#config.download.folder;
    if (folder === null) throw new Error("photos.download.folder is not set");
    this.#downloaderIndex = await DownloadIndex.open(this.#indexFile);
    this.#downloader = new Downloader({
      libraryDir: folder,
      index: this.#downloaderIndex,
      fetcher: this.#transport,
      refresh: (item, signal) => this.#service.refresh(item, signal),
      folderStructure: this.#config.download.structure,
      liveVideos: this.#config.download.live_videos,
      thumbnails: this.#config.download.thumbnails,
      concurrency: this.#config.download.concurrency,
      logger: this.#log,
    });
    return this.#downloader;
  }

  /** JPEG bytes of the item's thumbnail, or null when it has none or the fetch fails. */
  async #thumbnail(item: PhotoItem): Promise<Buffer | null> {
    const file = item.asset.files.find((f) => f.role === "thumbnail");
    const url = file ? item.downloads.get(file.id) : undefined;
    if (!url) return null;
    try {
      const response = await this.#transport.download(url);
      if (response.status !== 200) {
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
      return Buffer.concat(chunks);
    } catch (error) {
      this.#log.warn("could not fetch the thumbnail of the newest photo", {
        error: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  }
}
