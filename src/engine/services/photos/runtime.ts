import { EngineError } from "../../../errors.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { PhotosConfig } from "./config.ts";
import type { PhotosEvents, PhotosSnapshot } from "./events.ts";
import { PhotosJob } from "./job.ts";
import type { PhotosState } from "./state.ts";

const THUMBNAIL_FILE = "latest-thumbnail.jpg";

/**
 * Photos for one account: new photos from CloudKit's change feed on `schedule`, downloads when
 * enabled, and the newest photo with its thumbnail (kept across restarts for the image entity).
 * State is saved before anything is announced, so a restart never repeats an event.
 */
export class PhotosRuntime implements ServiceRuntime<PhotosSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>;
  readonly #job: PhotosJob;
  #thumbnail: Buffer | null;

  private constructor(ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>, thumbnail: Buffer | null) {
    this.#ctx = ctx;
    this.#thumbnail = thumbnail;
    this.#job = new PhotosJob(ctx.transport, ctx.config, {
      stateDir: ctx.stateDir,
      account: ctx.account,
      log: ctx.log,
    });
    this.jobs = [{ name: "photos", schedule: ctx.config.schedule, run: () => this.#poll() }];
  }

  static async start(ctx: ServiceContext<PhotosConfig, PhotosState, PhotosEvents>): Promise<PhotosRuntime> {
    const thumbnail = ctx.state.latest === null ? null : await ctx.loadFile(THUMBNAIL_FILE);
    return new PhotosRuntime(ctx, thumbnail);
  }

  snapshot(): PhotosSnapshot {
    const { latest, count } = this.#ctx.state;
    return { latest: latest === null ? null : { asset: latest, thumbnail: this.#thumbnail }, count };
  }

  async close(): Promise<void> {
    await this.#job.close();
  }

  async #poll(): Promise<void> {
    const { state } = this.#ctx;
    const before = { count: state.count, latest: state.latest?.id };
    const result = await this.#job.poll(state);
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
    // Everything new was announced and saved; the account still shows that files are missing.
    if (result.failedDownloads > 0) {
      throw new EngineError(
        "DOWNLOAD_FAILED",
        `${result.failedDownloads} photo download(s) failed; they are retried on the next polls`,
        { info: { pending: result.failedDownloads } },
      );
    }
  }
}
