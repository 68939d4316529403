import { parseDuration, parseSchedule } from "../config/schedule.ts";
import { EngineError, toEngineError } from "../errors.ts";
import type { HttpClientOptions } from "../icloud/http.ts";
import { ICloudSession } from "../icloud/session.ts";
import type { SessionStore } from "../icloud/session-store.ts";
import type { SessionSnapshot } from "../icloud/session-types.ts";
import type { Logger } from "../logger.ts";
import { within } from "../util/within.ts";
import type { AccountConfig } from "./account-config.ts";
import type { AccountState } from "./account-state.ts";
import { initialStatus, render, type StatusFields } from "./account-status.ts";
import type { AccountSnapshot } from "./api.ts";
import type { DataType } from "./commands.ts";
import type { EventBus } from "./event-bus.ts";
import type { EngineEvents } from "./events.ts";
import { AccountLimits, type Limits } from "./limits.ts";
import type { Scheduler } from "./scheduler.ts";
import { GENERIC_SERVICES, type GenericService } from "./services/generic.ts";
import type { ServiceContext, ServiceEvents, ServiceJob, ServiceRuntime } from "./services/service-module.ts";
import type { ServiceKey } from "./services/types.ts";
import type { EngineStateStore, StoredSections } from "./state-store.ts";

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
  /** Budgets of code attempts, code requests, re-authentications and full sign-ins (defaults in limits.ts). */
  limits?: Partial<Limits>;
  /** HTTP client settings of the iCloud session (tests shorten back-off and timeouts). */
  http?: HttpClientOptions;
}

/** Outcomes of a sign-in step that mean "done, now the user's turn" rather than a failure. */
const WAITING = new Set(["code-required", "choice-required"]);

const RETRY_MIN_MS = 60_000;
const RETRY_MAX_MS = 3_600_000;
/** `stop()` waits at most this long for the sign-in work in flight once its requests were cut. */
const STOP_WAIT_MS = 5_000;

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
  /** The account's state file: the enabled services' live states, and disabled ones' sections as found. */
  #sections: StoredSections = {};
  readonly #runtimes = new Map<ServiceKey, ServiceRuntime<unknown>>();
  #mfaTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #retryMin: number;
  readonly #limits: AccountLimits;
  #retryDelay: number;
  #running = 0;
  #authCalls = 0;
  /** The last snapshot that asked the user for something (code, choice), while the account waits. */
  #waiting: SessionSnapshot | undefined;
  /** The session's count of full sign-ins last seen (the store keeps it across restarts). */
  #signIns = 0;
  #stopped = false;
  #loaded = false;
  /** Aborted by `halt()`: long service jobs end early so the engine can stop. */
  readonly #halt = new AbortController();
  /** The session's `close()`, started by `halt()`. */
  #closing: Promise<void> | undefined;
  /** Sign-ins and syncs started in the background (start, retry timer, after a code), awaited by `stop()`. */
  readonly #background = new Set<Promise<unknown>>();

  constructor(deps: RunnerDeps) {
    this.#d = deps;
    this.id = deps.config.id;
    this.#retryMin = deps.retryDelayMs ?? RETRY_MIN_MS;
    this.#retryDelay = this.#retryMin;
    this.#limits = new AccountLimits(deps.limits);
    const c = deps.config;
    this.#fields = initialStatus(
      Object.fromEntries(GENERIC_SERVICES.map((m) => [m.key, this.#enabled(m)])) as Record<ServiceKey, boolean>,
    );
    this.session = new ICloudSession({
      username: c.username,
      ...(c.password === null ? {} : { password: c.password }),
      store: deps.sessionStore,
      logger: deps.log,
      ...(c.endpoint === null ? {} : { endpoint: c.endpoint }),
      china: c.region === "china",
      ...(deps.http === undefined ? {} : { http: deps.http }),
      // Checked before the password is sent; counted once Apple saw the proof (a 503 before it costs nothing).
      beforeFullSignIn: () => this.#limits.check("full_sign_ins"),
    });
    this.session.onChange((snapshot) => this.#countSignIns(snapshot));
  }

  /** Loads the persisted state and session and starts the services, so snapshots are complete before front-ends connect. */
  async load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    this.#sections = await this.#d.store.load(this.id);
    for (const module of GENERIC_SERVICES) {
      if (!this.#enabled(module)) continue;
      const state = this.#parseState(module);
      this.#sections[module.key] = state;
      const runtime = await module.start(this.#context(module, state));
      if (runtime.jobs[0]?.name !== module.key)
        throw new Error(`service ${module.key}: its first job must be named after the service`);
      this.#runtimes.set(module.key as ServiceKey, runtime);
    }
    await this.session.load();
    this.#signIns = this.session.snapshot().srp_sign_ins;
  }

  #countSignIns(snapshot: SessionSnapshot): void {
    if (snapshot.srp_sign_ins > this.#signIns)
      this.#limits.count("full_sign_ins", snapshot.srp_sign_ins - this.#signIns);
    this.#signIns = snapshot.srp_sign_ins;
  }

  async start(): Promise<void> {
    await this.load();
    this.session.onChange((snapshot) => this.#onSession(snapshot));
    for (const [key, runtime] of this.#runtimes) {
      for (const job of runtime.jobs) {
        this.#d.scheduler.add(`${this.id}/${job.name}`, parseSchedule(job.schedule), () => this.#runJob(key, job));
      }
    }
    this.#publish();
    this.#inBackground(this.authenticate("sync"));
  }

  /**
   * The start of `stop()`: no more state, events, sign-ins or timers; running jobs end at their next
   * step, and the session cuts its requests in flight (before the scheduler waits for the jobs).
   */
  halt(): void {
    this.#stopped = true;
    clearTimeout(this.#mfaTimer);
    clearTimeout(this.#retryTimer);
    this.#halt.abort(new EngineError("INVALID_STATE", "the account is stopping"));
    // Releases the account's sign-in lock and ends waits for other processes (a redeploy in the same process).
    this.#closing ??= this.session.close();
  }

  /**
   * Ends everything the account started: after it resolves nothing writes to the state folder, no
   * timer is armed and no request is open. The session is closed (the sign-in step in flight ends),
   * background sign-ins are awaited (bounded), then the services close. Call it after the
   * scheduler stopped (its jobs are awaited there).
   */
  async stop(): Promise<void> {
    this.halt();
    await this.#closing;
    const background = Promise.allSettled([...this.#background]);
    if (!(await within(background, STOP_WAIT_MS)))
      this.#d.log.warn("a sign-in did not end within 5 s of stopping; not waiting for it");
    for (const runtime of this.#runtimes.values()) await runtime.close?.();
  }

  /** Runs `work` without awaiting it; `stop()` awaits it. */
  #inBackground(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => {
      if (!this.#stopped) this.#d.log.warn(`background sign-in or sync failed: ${toEngineError(error).message}`);
    });
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  get state(): AccountState {
    return render(this.id, this.#fields, this.#shownSession());
  }

  /**
   * The session as front-ends see it. While the account waits for the user, a failed step (a resend
   * Apple refused, a network error) is told by `prevError`; the session keeps saying what it waits
   * for, with the choices and trusted numbers, so a front-end can still offer them.
   */
  #shownSession(): SessionSnapshot {
    const snapshot = this.session.snapshot();
    const waiting = this.#waiting;
    if (this.#fields.state !== "blocked" || snapshot.awaiting === null || waiting === undefined) return snapshot;
    if (snapshot.error !== null && WAITING.has(snapshot.error)) return snapshot;
    return { ...snapshot, error: waiting.error, error_info: waiting.error_info, message: waiting.message };
  }

  snapshot(): AccountSnapshot {
    const services = Object.fromEntries(
      GENERIC_SERVICES.map((m) => [m.key, this.#runtimes.get(m.key as ServiceKey)?.snapshot() ?? m.emptySnapshot()]),
    );
    return { state: this.state, ...services } as AccountSnapshot;
  }

  /** The running service `key`; refuses when it is disabled for this account or the session is not active. */
  service(key: ServiceKey): ServiceRuntime<unknown> {
    const runtime = this.#runtimes.get(key);
    if (runtime === undefined) {
      const title = GENERIC_SERVICES.find((m) => m.key === key)?.title ?? key;
      throw new EngineError("SERVICE_NOT_AVAILABLE", `${title} is disabled for this account`);
    }
    if (this.session.state !== "active") throw new EngineError("NOT_SIGNED_IN", "the iCloud session is not active");
    return runtime;
  }

  #enabled(module: GenericService): boolean {
    return module.enabled((this.#d.config as unknown as Record<string, unknown>)[module.key]);
  }

  /** The service's section of the state file, parsed with its schema; empty (and logged) when it does not parse. */
  #parseState(module: GenericService): unknown {
    const raw = this.#sections[module.key] ?? module.legacyState?.(this.#sections) ?? {};
    const parsed = module.state.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.#d.log.warn(`stored ${module.title} state is invalid; starting that service from an empty state`, {
      service: module.key,
      problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`),
    });
    return module.state.parse({});
  }

  #context(module: GenericService, state: unknown): ServiceContext<unknown, unknown, ServiceEvents> {
    const { bus, store, log } = this.#d;
    const account = this.id;
    const emit = bus.emit.bind(bus) as (event: string, payload: unknown) => void;
    return {
      account,
      config: (this.#d.config as unknown as Record<string, unknown>)[module.key],
      state,
      transport: this.session,
      stateDir: this.#d.stateDir,
      log: log.child({ service: module.key }),
      emit: (event, payload) => emit(event, { account, ...payload }),
      save: () => this.#save(),
      loadFile: (name) => store.loadFile(account, name),
      saveFile: (name, data) => store.saveFile(account, name, data),
      progress: (message, percent) => {
        if (this.#running > 0 && !this.#stopped) this.#update({ progressMsg: message, progress: percent });
      },
      signal: this.#halt.signal,
    };
  }

  /** Signs in (validate → stored tokens → SRP), then runs every service once when active. */
  async authenticate(trigger: "sync" | "auth", force = false): Promise<SessionSnapshot> {
    if (this.#stopped) return this.session.snapshot();
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

  /**
   * The `reauthenticate` command: a full sign-in even after a refused password (within the
   * re-authentication budget). Resolves when the session is active or waits for the user's code or
   * choice; any other outcome rejects with the session's error.
   */
  async reauthenticate(): Promise<SessionSnapshot> {
    if (this.#fields.state === "running") throw new EngineError("INVALID_STATE", "a sync or sign-in is in progress");
    this.#limits.take("reauthentications");
    const snapshot = await this.authenticate("auth", true);
    if (snapshot.state === "active" || (snapshot.error !== null && WAITING.has(snapshot.error))) return snapshot;
    throw this.#refusal(snapshot);
  }

  /** The session's error behind a refused step (what the command rejects with). */
  #refusal(snapshot: SessionSnapshot): EngineError {
    if (this.session.error !== undefined) return this.session.error;
    return new EngineError("UNEXPECTED_RESPONSE", snapshot.message ?? "the sign-in step did not complete");
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

  /**
   * Submits a code (within the code-attempt budget). Resolves only when Apple accepted it; a wrong
   * code, a locked code entry or any other failure rejects with the session's error (CODE_INVALID,
   * RATE_LIMITED, …) after `prevError` and the state were updated.
   */
  async submitCode(code: string): Promise<SessionSnapshot> {
    this.#requireAwaiting("code");
    this.#limits.take("code_attempts");
    this.#update({ progressMsg: "Verifying the code...", progress: 30 });
    const snapshot = await this.#authCall(() => this.session.submitCode(code));
    this.#afterAuth(snapshot);
    if (snapshot.state !== "active") throw this.#refusal(snapshot);
    this.#inBackground(this.sync());
    return snapshot;
  }

  /** Asks Apple for a new code (within the code-request budget); resolves when one was sent or a phone must be chosen. */
  async requestCode(method: "device" | "sms" | "voice", phoneNumberId?: number): Promise<SessionSnapshot> {
    this.#requireAwaiting("any");
    this.#limits.take("code_requests");
    this.#armMfaTimeout();
    const snapshot = await this.#authCall(() =>
      this.session.requestCode({ method, ...(phoneNumberId === undefined ? {} : { phoneNumberId }) }),
    );
    this.#afterAuth(snapshot);
    if (snapshot.error === null || !WAITING.has(snapshot.error)) throw this.#refusal(snapshot);
    return snapshot;
  }

  /** Picks a device or phone; resolves when the code was sent to it. */
  async submitChoice(choice: string): Promise<SessionSnapshot> {
    this.#requireAwaiting("choice");
    this.#armMfaTimeout();
    const snapshot = await this.#authCall(() => this.session.submitChoice(choice));
    this.#afterAuth(snapshot);
    if (snapshot.error === null || !WAITING.has(snapshot.error)) throw this.#refusal(snapshot);
    return snapshot;
  }

  /**
   * Runs the given services (all enabled ones by default) now; resolves when they finished.
   * `requested`: a person asked for it (the `sync` command), which services may treat more thoroughly.
   */
  async sync(dataTypes?: readonly DataType[], options: { requested?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    const keys = GENERIC_SERVICES.filter((m) => dataTypes === undefined || dataTypes.includes(m.dataType as DataType));
    const jobs: Promise<void>[] = [];
    for (const { key } of keys) {
      const runtime = this.#runtimes.get(key as ServiceKey);
      if (runtime === undefined) continue;
      if (options.requested === true) runtime.syncRequested?.();
      jobs.push(this.#d.scheduler.trigger(`${this.id}/${key}`));
    }
    await Promise.all(jobs);
  }

  #save(): Promise<void> {
    return this.#d.store.save(this.id, this.#sections);
  }

  async #runJob(key: ServiceKey, job: ServiceJob): Promise<void> {
    if (this.#stopped || this.session.state !== "active") return;
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
      await job.run();
      this.#fields.services[key] = {
        ...this.#fields.services[key],
        available: true,
        message: null,
        last_sync: new Date().toISOString(),
      };
    } catch (error) {
      const failure = toEngineError(error);
      // Ended by the engine stopping (its requests were cut): not a failure to report.
      if (this.#stopped) return;
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
      this.#inBackground(this.sync());
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
      this.#waiting = undefined;
      clearTimeout(this.#mfaTimer);
      this.#mfaTimer = undefined;
      this.#retryDelay = this.#retryMin;
      this.#update({ state: "ready", progressMsg: null, progress: 100, prevError: null });
      return;
    }
    const error = snapshot.error ?? "service-unavailable";
    const message = this.#explain(error, snapshot.message ?? error);
    if (snapshot.awaiting !== null && WAITING.has(error)) this.#waiting = snapshot;
    if (snapshot.awaiting === null) this.#waiting = undefined;
    if (snapshot.awaiting !== null) {
      const wasBlocked = this.#fields.state === "blocked";
      this.#update({
        state: "blocked",
        progressMsg: snapshot.awaiting === "choice" ? "Waiting for a choice of device..." : "Waiting for MFA code...",
        progress: 25,
        // Still waiting for the user, but the last step failed (a wrong code, a refused resend): say so.
        prevError: WAITING.has(error) ? this.#fields.prevError : { code: error, message },
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

  /** The session's message, made actionable where the configuration is the cause. */
  #explain(error: string, message: string): string {
    if (error === "not-signed-in" && this.#d.config.password === null)
      return "no password is configured and no stored session could be used: set the account's password or password_file, or sign in once with `icloud2mqtt login`";
    return message;
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
      this.#inBackground(this.authenticate("auth"));
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
