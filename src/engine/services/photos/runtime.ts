import { parseSchedule, shortestGapMs } from "../../../config/schedule.ts";
import { EngineError } from "../../../errors.ts";
import type { IcplAsset } from "../../../icloud/photos/types.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { PhotosConfig } from "./config.ts";
import type { PhotosEvents, PhotosSnapshot } from "./events.ts";
import { PhotosJob, pendingOf } from "./job.ts";
import {
  type FetchedPhotoFile,
  type PhotoFileRef,
  PhotoLibraryReader,
  type PhotoListOptions,
} from "./library-reader.ts";
import type { MirrorProgress } from "./mirror.ts";
import { progressMessage } from "./progress.ts";
import type { PhotosState } from "./state.ts";

const THUMBNAIL_FILE = "latest-thumbnail.jpg";
/** Failed downloads kept for retrying (the job applies the same bound). */
const PENDING_KEPT = 1000;

/**
 * Photos for one account: new photos from CloudKit's change feed on `schedule`, downloads when
 * enabled, and the newest photo with its thumbnail (kept across restarts for the image entity).
 * State is saved before anything is announced, so a restart never repeats an event.
 *
 * With `download.mode: all` the same job also mirrors the whole library: after the cheap check it
 * walks the library newest first and downloads what the download index lacks, resuming where it
 * was after a restart, checking for new photos every `schedule` meanwhile. A requested sync (the
 * `sync` command, `POST /api/sync`) walks everything again and checks every file on disk, as
 * icloud-photos-sync's sync does.
 */
export class PhotosRuntime implements ServiceRuntime<PhotosSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>;
  readonly #job: PhotosJob;
  readonly #pollEveryMs: number;
  readonly #reader: PhotoLibraryReader;
  /** Downloads of announced photos that failed on the last poll (retried on later polls). */
  #failedDownloads = 0;
  #thumbnail: Buffer | null;
  #progress: MirrorProgress | null;
  #verifyRequested = false;
  #albumsDone = false;
  #lastPoll = 0;

  private constructor(ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>, thumbnail: Buffer | null) {
    this.#ctx = ctx;
    this.#thumbnail = thumbnail;
    this.#job = new PhotosJob(ctx.transport, ctx.config, {
      stateDir: ctx.stateDir,
      account: ctx.account,
      log: ctx.log,
    });
    this.#reader = new PhotoLibraryReader(this.#job.service, ctx.transport, ctx.config, {
      stateDir: ctx.stateDir,
      account: ctx.account,
      log: ctx.log,
    });
    this.#pollEveryMs = shortestGapMs(parseSchedule(ctx.config.schedule));
    const backfill = ctx.state.backfill;
    this.#progress =
      backfill === null
        ? null
        : {
            state: backfill.status === "done" ? "done" : "stopped",
            items_done: backfill.items_done,
            items_total: backfill.items_total,
            files: 0,
            bytes: 0,
            failed: 0,
            eta_seconds: backfill.status === "done" ? 0 : null,
            percent:
              backfill.status === "done"
                ? 100
                : backfill.items_total === 0
                  ? 0
                  : Math.floor((backfill.items_done / backfill.items_total) * 1000) / 10,
          };
    this.jobs = [{ name: "photos", schedule: ctx.config.schedule, run: () => this.#run() }];
  }

  static async start(ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>): Promise<PhotosRuntime> {
    const thumbnail = ctx.state.latest === null ? null : await ctx.loadFile(THUMBNAIL_FILE);
    return new PhotosRuntime(ctx, thumbnail);
  }

  snapshot(): PhotosSnapshot {
    const { latest, count } = this.#ctx.state;
    return {
      latest: latest === null ? null : { asset: latest, thumbnail: this.#thumbnail },
      count,
      backfill: this.#progress,
    };
  }

  syncRequested(): void {
    if (this.#mirrors()) this.#verifyRequested = true;
  }

  /** Library items newest added first (see PhotoLibraryReader). */
  list(options: PhotoListOptions): Promise<IcplAsset[]> {
    return this.#reader.list(options);
  }

  /** One file of an asset, fetched into the engine's file cache. */
  file(ref: PhotoFileRef): Promise<FetchedPhotoFile> {
    return this.#reader.file(ref);
  }

  async close(): Promise<void> {
    await this.#job.close();
  }

  #mirrors(): boolean {
    const { download } = this.#ctx.config;
    return download.enabled && download.mode === "all";
  }

  async #run(): Promise<void> {
    await this.#reader.sweep();
    const { state, signal } = this.#ctx;
    const poll = await this.#poll();
    const { download } = this.#ctx.config;
    if (!download.enabled) return;
    let walked = false;
    if (this.#mirrors()) {
      const now = new Date().toISOString();
      if (this.#verifyRequested || poll.resync || state.backfill === null) {
        // A requested sync checks every file; a rejected token or a first run lists everything again.
        state.backfill = {
          status: "running",
          verify: this.#verifyRequested,
          zones: {},
          started_at: now,
          finished_at: null,
          items_done: 0,
          items_total: state.backfill?.items_total ?? 0,
        };
        this.#verifyRequested = false;
        await this.#ctx.save();
      }
      if (state.backfill.status === "running") {
        await this.#backfill(signal);
        walked = true;
      }
    }
    if (download.albums && (poll.changed || walked || !this.#albumsDone)) {
      const zone = (await this.#job.zones(signal)).find((z) => z.zoneID.zoneName === "PrimarySync");
      const folder = download.folder;
      if (zone && folder !== null) {
        this.#ctx.progress("Updating album folders...", null);
        await (await this.#job.mirror()).albums(folder, zone, signal);
        this.#albumsDone = true;
      }
    }
    // Everything new was announced and saved; the account still shows that files are missing.
    if (this.#failedDownloads > 0) {
      throw new EngineError(
        "DOWNLOAD_FAILED",
        `${this.#failedDownloads} photo download(s) failed; they are retried on the next polls`,
        { info: { pending: this.#failedDownloads } },
      );
    }
  }

  /** The cheap check and what follows from it: new photos announced, downloads, archive. */
  async #poll(): Promise<{ changed: boolean; resync: boolean }> {
    const { state } = this.#ctx;
    const before = { count: state.count, latest: state.latest?.id };
    this.#lastPoll = performance.now();
    const result = await this.#job.poll(state, this.#ctx.signal);
    result.commit();
    await this.#ctx.save();
    if (result.latest?.thumbnail) {
      this.#thumbnail = result.latest.thumbnail;
      await this.#ctx.saveFile(THUMBNAIL_FILE, result.latest.thumbnail);
    }
    for (const asset of result.fresh) {
      const thumbnail = asset.id === result.latest?.asset.id ? result.latest.thumbnail : null;
      this.#ctx.emit("photo.new", { asset, thumbnail });
    }
    if (result.latest && result.latest.asset.id !== before.latest) {
      this.#ctx.emit("photo.latest", { asset: result.latest.asset, thumbnail: this.#thumbnail });
    }
    if (result.count !== null && result.count !== before.count) this.#ctx.emit("photo.count", { count: result.count });
    this.#failedDownloads = result.failedDownloads;
    return { changed: result.changed, resync: result.resync };
  }

  /** Walks the library from the stored cursor; new photos are still checked every `schedule` meanwhile. */
  async #backfill(signal: AbortSignal): Promise<void> {
    const { state } = this.#ctx;
    const backfill = state.backfill;
    if (backfill === null) return;
    const mirror = await this.#job.mirror();
    const zones = await this.#job.zones(signal);
    this.#ctx.log.info(
      backfill.verify ? "checking every photo of the library on disk" : "downloading the photo library",
      {
        zones: zones.map((zone) => zone.zoneID.zoneName),
        resumed: Object.keys(backfill.zones).length > 0,
      },
    );
    const report = (progress: MirrorProgress): void => {
      this.#progress = progress;
      backfill.items_done = progress.items_done;
      backfill.items_total = progress.items_total;
      this.#ctx.progress(progressMessage(progress, backfill.verify), progress.percent);
      this.#ctx.emit("photo.backfill", { progress });
    };
    let summary: Awaited<ReturnType<typeof mirror.walk>>;
    try {
      summary = await mirror.walk(zones, {
        cursor: backfill.zones,
        signal,
        verify: backfill.verify,
        onProgress: report,
        onCheckpoint: () => this.#ctx.save(),
        between: async () => {
          if (performance.now() - this.#lastPoll >= this.#pollEveryMs) await this.#poll();
        },
      });
    } catch (error) {
      if (this.#progress?.state === "running") report({ ...this.#progress, state: "stopped", eta_seconds: null });
      throw error;
    }
    if (summary.failures.length > 0) {
      const known = new Set(state.pending_downloads.map((entry) => entry.id));
      const added = summary.failures.filter((item) => !known.has(item.asset.id)).map(pendingOf);
      state.pending_downloads = [...state.pending_downloads, ...added].slice(-PENDING_KEPT);
    }
    if (summary.stopped) {
      await this.#ctx.save();
      throw summary.stopped;
    }
    backfill.status = "done";
    backfill.verify = false;
    backfill.finished_at = new Date().toISOString();
    await this.#ctx.save();
    this.#ctx.log.info("photo library downloaded", {
      downloaded: summary.downloaded,
      already_there: summary.skipped,
      failed: summary.failed,
      bytes: summary.bytes,
    });
  }
}
