import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { FindMyConfig } from "./config.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { type DeviceChanges, FindMyJob } from "./job.ts";
import type { FindMyState } from "./state.ts";

/**
 * Apple's device list is refreshed at most this often on request (`list_devices`); requests closer
 * together get the list from the last refresh. Fresh locations need a locate (Apple delivers new fixes
 * some 10–30 s after one), which only the devices in `findmy.locate` get, on their own schedule.
 */
export const LIST_MIN_INTERVAL_MS = 10_000;

/**
 * Find My for one account: the device list on `schedule` (never wakes a device), active locating of
 * the configured devices on `locate_schedule`, and the actions the commands run.
 */
export class FindMyRuntime implements ServiceRuntime<FindMySnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<FindMyConfig, FindMyState, FindMyEvents>;
  readonly #job: FindMyJob;
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;

  constructor(ctx: ServiceContext<FindMyConfig, FindMyState, FindMyEvents>) {
    this.#ctx = ctx;
    this.#job = new FindMyJob(ctx.transport, ctx.config, ctx.log, ctx.signal);
    this.#job.prepare(ctx.state);
    const jobs: ServiceJob[] = [
      {
        name: "findmy",
        schedule: ctx.config.schedule,
        run: () => this.#refresh(),
      },
    ];
    if (ctx.config.locate !== "none") {
      jobs.push({
        name: "locate",
        schedule: ctx.config.locate_schedule,
        run: async () => {
          await this.#apply(await this.#job.locate(ctx.state));
        },
      });
    }
    this.jobs = jobs;
  }

  snapshot(): FindMySnapshot {
    return { devices: Object.values(this.#ctx.state.devices) };
  }

  /** Every device, from a refresh of the list unless one finished within `LIST_MIN_INTERVAL_MS` (wakes no device). */
  async listDevices(): Promise<FmipDevice[]> {
    if (Date.now() - this.#refreshedAt >= LIST_MIN_INTERVAL_MS) await this.#refresh();
    return this.snapshot().devices;
  }

  /** One refresh at a time; callers arriving meanwhile share it. */
  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        await this.#apply(await this.#job.refresh(this.#ctx.state));
        this.#refreshedAt = Date.now();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Locates one device (id or name) or the configured ones now; returns the devices that changed. */
  async locate(device?: string): Promise<FmipDevice[]> {
    return this.#apply(await this.#job.locate(this.#ctx.state, device));
  }

  async playSound(device: string, subject?: string): Promise<{ device: string }> {
    const id = this.#job.resolve(this.#ctx.state, device);
    await this.#job.service.playSound(id, subject);
    return { device: id };
  }

  async sendMessage(device: string, message: { text: string; subject?: string; sound?: boolean }) {
    const id = this.#job.resolve(this.#ctx.state, device);
    await this.#job.service.sendMessage(id, message);
    return { device: id };
  }

  async lostMode(device: string, options: { text: string; phoneNumber?: string; passcode?: string }) {
    const id = this.#job.resolve(this.#ctx.state, device);
    await this.#job.service.lostMode(id, options);
    return { device: id };
  }

  /** Saves, then tells front-ends what changed (saved first, so a restart repeats nothing). */
  async #apply(changes: DeviceChanges): Promise<FmipDevice[]> {
    if (changes.updated.length === 0 && changes.removed.length === 0) return [];
    await this.#ctx.save();
    for (const device of changes.updated) this.#ctx.emit("device.updated", { device });
    for (const device of changes.removed)
      this.#ctx.emit("device.removed", { deviceId: device.id, slug: device.slug ?? null });
    return changes.updated;
  }
}
