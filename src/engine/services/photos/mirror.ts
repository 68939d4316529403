import type { EngineError } from "../../../errors.ts";
import type { DownloadIndex } from "../../../icloud/photos/download-index.ts";
import type { Downloader, DownloadResult } from "../../../icloud/photos/downloader.ts";
import { type AlbumFolder, type AlbumSyncResult, syncAlbumLinks } from "../../../icloud/photos/library-files.ts";
import type { LibraryZone, PhotoAlbum, PhotosService } from "../../../icloud/photos/photos-service.ts";
import { zoneKey } from "../../../icloud/photos/sync-state.ts";
import type { PhotoItem, PhotoZone } from "../../../icloud/photos/types.ts";
import type { Logger } from "../../../logger.ts";

/**
 * Listing pages requested ahead while a whole-library walk downloads (see `EnumerateOptions.prefetch`):
 * the walk does not wait for CloudKit between pages, and at most this many pages more are in memory.
 */
const LISTING_PREFETCH = 2;

/** Where a whole-library download stands; published as the account's progress and on MQTT. */
export interface MirrorProgress {
  state: "running" | "done" | "stopped";
  /** Library items handled (downloaded, already on disk, or failed) out of `items_total`. */
  items_done: number;
  items_total: number;
  /** Files and bytes written by this run. */
  files: number;
  bytes: number;
  failed: number;
  /** Seconds left at the current pace; null until there is a pace to go by. */
  eta_seconds: number | null;
  /** 0–100. */
  percent: number;
}

export interface MirrorSummary {
  downloaded: number;
  skipped: number;
  failed: number;
  files: number;
  bytes: number;
  /** Items a dry run would fetch, with their files and bytes. */
  planned: { items: number; files: number; bytes: number };
  /** Why the walk ended before the end of the library (disk full, read-only folder, …). */
  stopped?: EngineError;
  /** Assets whose download failed (for retrying later). */
  failures: PhotoItem[];
  complete: boolean;
}

export interface MirrorWalkOptions {
  /** Where each zone's walk continues (`zoneKey` → rank, -1 = finished); updated in place. */
  cursor: Record<string, number>;
  signal?: AbortSignal;
  /** Check files of indexed assets on disk too (fetch missing or truncated ones). */
  verify?: boolean;
  /** Count what would be fetched instead of fetching it. */
  dryRun?: boolean;
  /** Only items captured at or after / before these times (`date_created`). */
  createdFrom?: number;
  createdBefore?: number;
  onProgress?: (progress: MirrorProgress) => void;
  /** The cursor moved past completed pages: persist it (called at most every `checkpointMs`). */
  onCheckpoint?: () => Promise<void>;
  /** Runs between listing pages (e.g. the cheap change check while a long download goes on). */
  between?: () => Promise<void>;
  /** Each item handled: with the download's result, or without one in a dry run. */
  onItem?: (item: PhotoItem, result: DownloadResult | undefined) => void;
  checkpointMs?: number;
}

/** Failed items kept for the caller to retry; beyond this they are only counted. */
const FAILURES_KEPT = 1000;

interface Page {
  left: number;
  nextRank: number;
  listed: boolean;
}

/**
 * The whole library onto disk: every zone walked newest added first, page by page, each item handed
 * to the downloader (which skips what the download index already holds), with a cursor per zone
 * that only moves past pages whose items all finished, so a crash or restart resumes where it was
 * and fetches nothing twice. Memory stays bounded by the window of pages in flight.
 */
export class LibraryMirror {
  readonly #service: PhotosService;
  readonly #downloader: Downloader;
  readonly #index: DownloadIndex;
  readonly #log: Logger;

  constructor(options: { service: PhotosService; downloader: Downloader; index: DownloadIndex; log: Logger }) {
    this.#service = options.service;
    this.#downloader = options.downloader;
    this.#index = options.index;
    this.#log = options.log;
  }

  async walk(zones: readonly LibraryZone[], options: MirrorWalkOptions): Promise<MirrorSummary> {
    const summary: MirrorSummary = {
      downloaded: 0,
      skipped: 0,
      failed: 0,
      files: 0,
      bytes: 0,
      planned: { items: 0, files: 0, bytes: 0 },
      failures: [],
      complete: false,
    };
    const counts = new Map<string, number>();
    for (const zone of zones) {
      counts.set(zoneKey(zone), await this.#service.count(zone, "CPLAssetByAddedDate"));
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const remaining = (key: string): number => {
      const rank = options.cursor[key];
      const count = counts.get(key) ?? 0;
      return rank === undefined ? count : Math.min(count, rank + 1);
    };
    let handledBefore = 0;
    for (const zone of zones) handledBefore += (counts.get(zoneKey(zone)) ?? 0) - remaining(zoneKey(zone));
    let handled = 0;
    const started = performance.now();
    let lastReport = 0;
    const report = (state: MirrorProgress["state"], force = false): void => {
      const now = performance.now();
      if (!force && now - lastReport < 1000) return;
      lastReport = now;
      const done = Math.min(total, handledBefore + handled);
      const elapsed = (now - started) / 1000;
      const pace = handled > 0 && elapsed > 2 ? handled / elapsed : 0;
      options.onProgress?.({
        state,
        items_done: done,
        items_total: total,
        files: summary.files,
        bytes: summary.bytes,
        failed: summary.failed,
        eta_seconds: state === "done" ? 0 : pace > 0 ? Math.round((total - done) / pace) : null,
        percent: total === 0 ? 100 : Math.floor((done / total) * 1000) / 10,
      });
    };
    report("running", true);
    let lastCheckpoint = performance.now();
    const checkpoint = async (force: boolean): Promise<void> => {
      if (!options.onCheckpoint) return;
      if (!force && performance.now() - lastCheckpoint < (options.checkpointMs ?? 5000)) return;
      lastCheckpoint = performance.now();
      await options.onCheckpoint();
    };

    for (const zone of zones) {
      const key = zoneKey(zone);
      if (options.cursor[key] === -1) continue;
      const outcome = await this.#walkZone(zone, key, options, summary, () => {
        handled++;
        report("running");
      });
      await checkpoint(true);
      if (outcome === "stopped") {
        report("stopped", true);
        return summary;
      }
    }
    summary.complete = true;
    report("done", true);
    return summary;
  }

  async #walkZone(
    zone: LibraryZone,
    key: string,
    options: MirrorWalkOptions,
    summary: MirrorSummary,
    onHandled: () => void,
  ): Promise<"done" | "stopped"> {
    const signal = options.signal;
    const start = options.cursor[key];
    const pages: Page[] = [];
    /** Asset id → the pages waiting for it (a shifted rank can list an item twice). */
    const waiting = new Map<string, Page[]>();
    /** Items handed to the downloader and not finished: at most `concurrency` plus one (workers pull). */
    const inFlight = new Map<string, PhotoItem>();
    const advance = (): void => {
      while (pages[0]?.listed && pages[0].left === 0) {
        const page = pages.shift() as Page;
        options.cursor[key] = page.nextRank;
      }
    };
    const finish = (result: DownloadResult): void => {
      const list = waiting.get(result.assetId);
      const page = list?.shift();
      if (list && list.length === 0) waiting.delete(result.assetId);
      if (page) page.left--;
      const item = inFlight.get(result.assetId);
      if (list === undefined || list.length === 0) inFlight.delete(result.assetId);
      if (result.status === "failed" && item && summary.failures.length < FAILURES_KEPT) summary.failures.push(item);
      if (item) options.onItem?.(item, result);
      onHandled();
      advance();
    };
    const self = this;
    const listing = async function* (): AsyncGenerator<PhotoItem> {
      const walk = self.#service.pages(
        {
          order: "desc",
          prefetch: LISTING_PREFETCH,
          ...(start === undefined ? {} : { startRank: start }),
          ...(signal ? { signal } : {}),
        },
        zone,
      );
      for await (const page of walk) {
        const entry: Page = { left: 0, nextRank: page.nextRank, listed: false };
        pages.push(entry);
        for (const item of page.items) {
          const created = Date.parse(item.asset.date_created);
          if (options.createdFrom !== undefined && created < options.createdFrom) continue;
          if (options.createdBefore !== undefined && created >= options.createdBefore) continue;
          if (options.dryRun === true) {
            self.#plan(item, summary);
            options.onItem?.(item, undefined);
            onHandled();
            continue;
          }
          entry.left++;
          inFlight.set(item.asset.id, item);
          const list = waiting.get(item.asset.id) ?? [];
          list.push(entry);
          waiting.set(item.asset.id, list);
          yield item;
        }
        entry.listed = true;
        advance();
        if (options.between) await options.between();
      }
    };
    if (options.dryRun === true) {
      for await (const _ of listing()) {
        // dry runs yield nothing
      }
      options.cursor[key] = -1;
      return "done";
    }
    const run = await this.#downloader.run(listing(), {
      ...(signal ? { signal } : {}),
      ...(options.verify === true ? { verify: true } : {}),
      onResult: (result) => {
        summary[result.status]++;
        summary.files += result.status === "downloaded" ? result.files.length : 0;
        summary.bytes += result.bytes;
        finish(result);
      },
    });
    if (run.stopped) {
      summary.stopped = run.stopped;
      return "stopped";
    }
    // Failed items still move the cursor: they are kept as pending downloads and retried by the polls.
    options.cursor[key] = -1;
    return "done";
  }

  #plan(item: PhotoItem, summary: MirrorSummary): void {
    if (this.#index.hasAsset(item.asset.id)) return;
    const files = this.#downloader.wantedFiles(item);
    summary.planned.items++;
    summary.planned.files += files.length;
    summary.planned.bytes += files.reduce((sum, file) => sum + file.size, 0);
  }

  /**
   * `_Albums/` as the user albums of the personal library are now: one folder per album (under its
   * folders), links to the downloaded files of its members.
   */
  async albums(libraryDir: string, zone: PhotoZone, signal?: AbortSignal): Promise<AlbumSyncResult> {
    const albums = await this.#service.albums(zone, signal);
    const byId = new Map<string, PhotoAlbum>(albums.map((album) => [album.id, album]));
    const folders: AlbumFolder[] = [];
    for (const album of albums) {
      if (album.kind !== "album") continue;
      const path: { id: string; name: string }[] = [{ id: album.id, name: album.name }];
      const seen = new Set([album.id]);
      for (let parent = album.parentId; parent !== null; ) {
        const folder = byId.get(parent);
        if (folder === undefined || seen.has(folder.id)) break;
        seen.add(folder.id);
        path.unshift({ id: folder.id, name: folder.name });
        parent = folder.parentId;
      }
      const members: string[] = [];
      for await (const page of this.#service.albumMembers(album.id, zone, signal)) members.push(...page);
      folders.push({ path, members });
    }
    const result = await syncAlbumLinks(libraryDir, this.#index, folders);
    this.#log.debug("album folders updated", { ...result });
    return result;
  }
}
