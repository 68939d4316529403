import type { AccountConfig } from "../config/account-schema.ts";
import { parseDuration, parseSchedule } from "../config/schedule.ts";
import { EngineError, toEngineError } from "../errors.ts";
import type { CallkitCall } from "../icloud/calls/types.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import type { IcplAsset } from "../icloud/photos/types.ts";
import { ICloudSession } from "../icloud/session.ts";
import type { SessionStore } from "../icloud/session-store.ts";
import type { SessionSnapshot } from "../icloud/session-types.ts";
import type { Logger } from "../logger.ts";
import type { AccountState } from "./account-state.ts";
import { initialStatus, render, type ServiceKey, type StatusFields } from "./account-status.ts";
import type { AccountSnapshot } from "./api.ts";
import { CallsJob } from "./calls-job.ts";
import type { DataType } from "./commands.ts";
import type { EventBus } from "./event-bus.ts";
import type { EngineEvents } from "./events.ts";
import { FindMyJob } from "./findmy-job.ts";
import { PhotosJob } from "./photos-job.ts";
import type { Scheduler } from "./scheduler.ts";
import type { EngineState, EngineStateStore } from "./state-store.ts";

export interface RunnerDeps {
  config: AccountConfig;
  stateDir: string;
  bus: EventBus<EngineEvents>;
  log: Logger;
  store: EngineStateStore;
  sessionStore: SessionStore;
  scheduler: Scheduler;
  /** Clears the account's log lines when a new run starts. */
  clearLog: () => void;
  /** First delay before a failed sign-in is retried (doubles up to an hour); default one minute. */
  retryDelayMs?: number;
}

const SERVICE_OF: Record<DataType, ServiceKey> = {
  "fmip.devices": "findmy",
  "icpl.photos": "photos",
  "callkit.calls": "calls",
};
const RETRY_MIN_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;

/**
 * One iCloud account: keeps its session alive, runs its service jobs on their schedules, turns
 * results into bus events, and executes commands. `blocked` means waiting for a code or choice;
 * it stays blocked after a wrong code (the user retries) until `mfa_timeout` passes.
 */
export class AccountRunner {
  readonly id: string;
  readonly session: ICloudSession;
  readonly #d: RunnerDeps;
  readonly #fields: StatusFields;
  #state!: EngineState;
  #findmy: FindMyJob | undefined;
  #photos: PhotosJob | undefined;
  #calls: CallsJob | undefined;
  #latestThumbnail: Buffer | null = null;
  #latestId: string | undefined;
  #mfaTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #retryMin: number;
  #retryDelay: number;
  #running = 0;
  #authCalls = 0;
  #stopped = false;
  #loaded = false;

  constructor(deps: RunnerDeps) {
    this.#d = deps;
    this.id = deps.config.id;
    this.#retryMin = deps.retryDelayMs ?? RETRY_MIN_MS;
    this.#retryDelay = this.#retryMin;
    const c = deps.config;
    this.#fields = initialStatus({ findmy: c.findmy.enabled, photos: c.photos.enabled, calls: c.calls.enabled });
    this.session = new ICloudSession({
      username: c.username,
      ...(c.password === null ? {} : { password: c.password }),
      store: deps.sessionStore,
      logger: deps.log,
      ...(c.endpoint === null ? {} : { endpoint: c.endpoint }),
      china: c.region === "china",
    });
  }

  /** Loads the persisted state and session, so snapshots are complete before front-ends connect. */
  async load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    this.#state = await this.#d.store.load(this.id);
    this.#latestId = (this.#state.photos.latest as IcplAsset | null)?.id;
    this.#latestThumbnail = this.#latestId === undefined ? null : await this.#d.store.loadThumbnail(this.id);
    await this.session.load();
  }

  async start(): Promise<void> {
    await this.load();
    this.session.onChange((snapshot) => this.#onSession(snapshot));
    const c = this.#d.config;
    const transport = this.session;
    const log = this.#d.log;
    if (c.findmy.enabled) {
      this.#findmy = new FindMyJob(transport, c.findmy, log);
      this.#schedule("findmy", c.findmy.schedule, () => this.#refreshDevices());
      if (c.findmy.locate !== "none") this.#schedule("locate", c.findmy.locate_schedule, () => this.#locate());
    }
    if (c.photos.enabled) {
      this.#photos = new PhotosJob(transport, c.photos, { stateDir: this.#d.stateDir, account: this.id, log });
      this.#schedule("photos", c.photos.schedule, () => this.#pollPhotos());
    }
    if (c.calls.enabled) {
      this.#calls = new CallsJob(transport, c.calls, log);
      this.#schedule("calls", c.calls.schedule, () => this.#pollCalls());
    }
    this.#publish();
    void this.authenticate("sync");
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#mfaTimer);
    clearTimeout(this.#retryTimer);
    this.#calls?.close();
    await this.#photos?.close();
    // Releases the account's sign-in lock and ends waits for other processes (a redeploy in the same process).
    await this.session.close();
  }

  get state(): AccountState {
    return render(this.id, this.#fields, this.session.snapshot());
  }

  snapshot(): AccountSnapshot {
    const latest = this.#state?.photos.latest as IcplAsset | null | undefined;
    return {
      state: this.state,
      devices: Object.values(this.#state?.devices ?? {}) as FmipDevice[],
      lastCall: (this.#state?.calls.last ?? null) as CallkitCall | null,
      latestPhoto: latest ? { asset: latest, thumbnail: this.#latestThumbnail } : null,
      photoCount: this.#state?.photos.count ?? null,
    };
  }

  /** Signs in (validate → stored tokens → SRP), then runs every service once when active. */
  async authenticate(trigger: "sync" | "auth", force = false): Promise<SessionSnapshot> {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#d.clearLog();
    this.#update({
      state: "running",
      prevTrigger: trigger,
      prevError: null,
      progressMsg: "Signing in to iCloud...",
      progress: 5,
    });
    const snapshot = await this.#authCall(() =>
      force ? this.session.reauthenticate({ force: true }) : this.session.signIn(),
    );
    this.#afterAuth(snapshot);
    if (snapshot.state === "active") await this.sync();
    return snapshot;
  }

  /** Runs an explicit sign-in step; its outcome is handled by the caller, not by `#onSession`. */
  async #authCall(step: () => Promise<SessionSnapshot>): Promise<SessionSnapshot> {
    this.#authCalls += 1;
    try {
      return await step();
    } finally {
      this.#authCalls -= 1;
    }
  }

  /** Refuses a code/choice/resend unless the account is blocked waiting for one (also after the MFA timeout). */
  #requireAwaiting(what: "code" | "choice" | "any"): void {
    const awaiting = this.session.snapshot().awaiting;
    const expected = what === "any" ? awaiting !== null : awaiting === what;
    if (this.#fields.state !== "blocked" || !expected) {
      const timedOut =
        this.#fields.prevError?.code === "mfa-timeout" ? " (the wait timed out; re-authenticate to start again)" : "";
      throw new EngineError(
        "INVALID_STATE",
        `no ${what === "choice" ? "choice" : "verification code"} is expected at this time${timedOut}`,
      );
    }
  }

  async submitCode(code: string): Promise<SessionSnapshot> {
    this.#requireAwaiting("code");
    this.#update({ progressMsg: "Verifying the code...", progress: 30 });
    const snapshot = await this.#authCall(() => this.session.submitCode(code));
    this.#afterAuth(snapshot);
    if (snapshot.state === "active") void this.sync();
    else if (snapshot.error === "code-invalid")
      throw new EngineError("CODE_INVALID", snapshot.message ?? "the code was not accepted");
    return snapshot;
  }

  async requestCode(method: "device" | "sms" | "voice", phoneNumberId?: number): Promise<SessionSnapshot> {
    this.#requireAwaiting("any");
    this.#armMfaTimeout();
    const snapshot = await this.#authCall(() =>
      this.session.requestCode({ method, ...(phoneNumberId === undefined ? {} : { phoneNumberId }) }),
    );
    this.#afterAuth(snapshot);
    return snapshot;
  }

  async submitChoice(choice: string): Promise<SessionSnapshot> {
    this.#requireAwaiting("choice");
    this.#armMfaTimeout();
    const snapshot = await this.#authCall(() => this.session.submitChoice(choice));
    this.#afterAuth(snapshot);
    return snapshot;
  }

  /** Runs the given services (all enabled ones by default) now; resolves when they finished. */
  async sync(dataTypes?: readonly DataType[]): Promise<void> {
    if (this.#stopped) return;
    const services = (dataTypes ?? ["fmip.devices", "icpl.photos", "callkit.calls"]).map((t) => SERVICE_OF[t]);
    const jobs: Promise<void>[] = [];
    for (const service of new Set(services)) {
      if (!this.#fields.services[service].enabled) continue;
      jobs.push(this.#d.scheduler.trigger(`${this.id}/${service}`));
    }
    await Promise.all(jobs);
  }

  /** Locates one device (or the configured ones) now; runs after any Find My job in progress. */
  async locate(device?: string): Promise<FmipDevice[]> {
    const changes = await this.#requireFindMy().locate(this.#state, device);
    await this.#save();
    return this.#emitDevices(changes);
  }

  findMy(device: string): { service: FindMyJob["service"]; id: string } {
    const job = this.#requireFindMy();
    return { service: job.service, id: job.resolve(this.#state, device) };
  }

  #save(): Promise<void> {
    return this.#d.store.save(this.id, this.#state);
  }

  #requireFindMy(): FindMyJob {
    if (!this.#findmy) throw new EngineError("SERVICE_NOT_AVAILABLE", "Find My is disabled for this account");
    if (this.session.state !== "active") throw new EngineError("NOT_SIGNED_IN", "the iCloud session is not active");
    return this.#findmy;
  }

  #schedule(service: ServiceKey | "locate", value: string | number, run: () => Promise<void>): void {
    const schedule = parseSchedule(value);
    this.#d.scheduler.add(`${this.id}/${service}`, schedule, () => this.#runService(service, run));
  }

  async #runService(service: ServiceKey | "locate", run: () => Promise<void>): Promise<void> {
    if (this.#stopped || this.session.state !== "active") return;
    const key: ServiceKey = service === "locate" ? "findmy" : service;
    this.#running += 1;
    if (this.#running === 1) this.#d.clearLog();
    this.#update({
      state: this.#fields.state === "blocked" ? "blocked" : "running",
      // A new run starts with a clean slate (as icloud-photos-sync does); a failure sets it again.
      ...(this.#running === 1 && this.#fields.state !== "blocked" ? { prevError: null } : {}),
      prevTrigger: "sync",
      progressMsg: `Syncing ${key}...`,
    });
    try {
      await run();
      this.#fields.services[key] = {
        ...this.#fields.services[key],
        available: true,
        message: null,
        last_sync: new Date().toISOString(),
      };
    } catch (error) {
      const failure = toEngineError(error);
      this.#fields.services[key] = {
        ...this.#fields.services[key],
        available: failure.code !== "SERVICE_NOT_AVAILABLE",
        message: failure.message,
      };
      if (failure.code !== "SERVICE_NOT_AVAILABLE" && this.session.state === "active") {
        this.#fields.prevError = { code: failure.sessionError, message: failure.message };
        this.#d.bus.emit("sync.failed", { account: this.id, code: failure.sessionError, message: failure.message });
      }
      this.#d.log.warn(`${key} sync failed: ${failure.message}`, { code: failure.code });
    } finally {
      this.#running -= 1;
      this.#fields.services[key].next_sync = iso(this.#d.scheduler.nextRun(`${this.id}/${key}`));
      if (this.#running === 0 && this.#fields.state === "running")
        this.#update({ state: "ready", progressMsg: null, progress: 100 });
      else this.#publish();
      await this.#save().catch((e: unknown) => this.#d.log.error(toEngineError(e).message));
    }
  }

  async #refreshDevices(): Promise<void> {
    if (this.#findmy) this.#emitDevices(await this.#findmy.refresh(this.#state));
  }

  async #locate(): Promise<void> {
    if (this.#findmy) this.#emitDevices(await this.#findmy.locate(this.#state));
  }

  #emitDevices(changes: { updated: FmipDevice[]; removed: string[] }): FmipDevice[] {
    for (const device of changes.updated) this.#d.bus.emit("device.updated", { account: this.id, device });
    for (const deviceId of changes.removed) this.#d.bus.emit("device.removed", { account: this.id, deviceId });
    return changes.updated;
  }

  async #pollPhotos(): Promise<void> {
    if (!this.#photos) return;
    const before = this.#state.photos.count;
    const result = await this.#photos.poll(this.#state);
    result.commit();
    await this.#save();
    const previous = this.#latestId;
    if (result.latest) {
      if (result.latest.thumbnail) {
        this.#latestThumbnail = result.latest.thumbnail;
        await this.#d.store.saveThumbnail(this.id, result.latest.thumbnail);
      }
      this.#latestId = result.latest.asset.id;
    }
    for (const asset of result.fresh) {
      const thumbnail = asset.id === result.latest?.asset.id ? result.latest.thumbnail : null;
      this.#d.bus.emit("photo.new", { account: this.id, asset, thumbnail });
    }
    if (result.latest && result.latest.asset.id !== previous) {
      this.#d.bus.emit("photo.latest", {
        account: this.id,
        asset: result.latest.asset,
        thumbnail: this.#latestThumbnail,
      });
    }
    if (result.count !== null && result.count !== before) {
      this.#d.bus.emit("photo.count", { account: this.id, count: result.count });
    }
  }

  async #pollCalls(): Promise<void> {
    if (!this.#calls) return;
    const previous = (this.#state.calls.last as CallkitCall | null)?.id;
    const result = await this.#calls.poll(this.#state);
    this.#state.calls = { cursor: result.cursor, last: result.last };
    await this.#save();
    for (const call of result.calls) this.#d.bus.emit("call.new", { account: this.id, call });
    if (result.last && result.last.id !== previous)
      this.#d.bus.emit("call.last", { account: this.id, call: result.last });
  }

  /**
   * Session changes that happen outside `authenticate` (a service's re-sign-in inside a job): a code
   * or choice needed blocks the account; a failed restore arms a retry (when retryable) and reports
   * the failure, so polling never stops silently.
   */
  #onSession(snapshot: SessionSnapshot): void {
    if (this.#stopped) return;
    if (this.#authCalls > 0) {
      this.#publish();
      return;
    }
    // Blocked on a code, and another process completed a sign-in the session took over: unblock and sync.
    if (snapshot.state === "active" && this.#fields.state === "blocked") {
      this.#afterAuth(snapshot);
      void this.sync();
      return;
    }
    const lost = snapshot.state === "failed" || snapshot.state === "expired";
    if (lost && snapshot.awaiting !== null && this.#fields.state !== "blocked") this.#afterAuth(snapshot);
    else if (lost && snapshot.awaiting === null && snapshot.error !== null && this.#retryTimer === undefined) {
      this.#afterAuth(snapshot);
    } else this.#publish();
  }

  #afterAuth(snapshot: SessionSnapshot): void {
    // A sign-in step that was in flight when the engine stopped: no state, events or timers.
    if (this.#stopped) return;
    if (snapshot.state === "active") {
      clearTimeout(this.#mfaTimer);
      this.#mfaTimer = undefined;
      this.#retryDelay = this.#retryMin;
      this.#update({ state: "ready", progressMsg: null, progress: 100, prevError: null });
      return;
    }
    const error = snapshot.error ?? "service-unavailable";
    const message = snapshot.message ?? error;
    if (snapshot.awaiting !== null) {
      const wasBlocked = this.#fields.state === "blocked";
      this.#update({
        state: "blocked",
        progressMsg: snapshot.awaiting === "choice" ? "Waiting for a choice of device..." : "Waiting for MFA code...",
        progress: 25,
        prevError: error === "code-invalid" ? { code: error, message } : this.#fields.prevError,
      });
      if (!wasBlocked) {
        this.#armMfaTimeout();
        this.#d.bus.emit("mfa.required", { account: this.id, state: this.state });
      }
      return;
    }
    clearTimeout(this.#mfaTimer);
    this.#update({ state: "ready", progressMsg: null, prevError: { code: error, message } });
    this.#d.log.warn(`sign-in failed: ${message}`, { error });
    this.#d.bus.emit("sync.failed", { account: this.id, code: error, message });
    // Only errors marked retryable (503, 429, network) come back by themselves; a wrong password,
    // a locked account or an unexpected answer waits for the user.
    if (this.session.error?.retryable === true) this.#armRetry(snapshot.error_info?.retry_after);
  }

  #armMfaTimeout(): void {
    clearTimeout(this.#mfaTimer);
    const ms = parseDuration(this.#d.config.mfa_timeout);
    this.#mfaTimer = setTimeout(() => {
      if (this.#fields.state !== "blocked") return;
      const message = `no verification code was entered within ${this.#d.config.mfa_timeout}; use re-authenticate to start again`;
      this.#d.log.warn(message);
      this.#update({ state: "ready", progressMsg: null, prevError: { code: "mfa-timeout", message } });
      this.#d.bus.emit("sync.failed", { account: this.id, code: "mfa-timeout", message });
    }, ms);
    this.#mfaTimer.unref?.();
  }

  #armRetry(retryAfter: number | undefined): void {
    clearTimeout(this.#retryTimer);
    const jitter = Math.random() * 0.2 * this.#retryDelay;
    const delay = Math.max((retryAfter ?? 0) * 1000, this.#retryDelay + jitter);
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
    this.#d.log.info(`retrying the sign-in in ${Math.round(delay / 1000)} s`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.authenticate("auth").catch(() => undefined);
    }, delay);
    this.#retryTimer.unref?.();
  }

  #update(changes: Partial<StatusFields>): void {
    Object.assign(this.#fields, changes, { timestamp: Date.now() });
    this.#fields.nextSync = this.session.state === "active" ? this.#d.scheduler.nextRunOf(`${this.id}/`) : null;
    this.#publish();
  }

  #publish(): void {
    if (this.#stopped) return;
    this.#d.bus.emit("account.state", this.state);
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
