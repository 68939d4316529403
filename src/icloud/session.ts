import { randomUUID } from "node:crypto";
import { EngineError, type ErrorCode, toEngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { within } from "../util/within.ts";
import type { LockHolder } from "./account-lock.ts";
import type { AuthContext } from "./auth-context.ts";
import { accountLogin, repairComplete, srpSignIn, validateSession } from "./auth-steps.ts";
import { AppleCookieJar } from "./cookie-jar.ts";
import { resolveEndpoints } from "./endpoints.ts";
import { closedError, HttpClient } from "./http.ts";
import { MfaFlow } from "./mfa-flow.ts";
import { passwordCheck, samePassword } from "./password-check.ts";
import { downloadUrl, serviceCall, webserviceUrl } from "./service-calls.ts";
import type {
  DownloadResponse,
  ServiceRequestOptions,
  ServiceResponse,
  ServiceTransport,
  WebserviceName,
} from "./service-transport.ts";
import { SessionSharing } from "./session-sharing.ts";
import { signInHolder, snapshotOf } from "./session-snapshot.ts";
import type { SessionStore, StoredSession } from "./session-store.ts";
import type {
  ICloudSessionOptions,
  RequestCodeOptions,
  SessionListener,
  SessionSnapshot,
  SessionState,
  SignInHolder,
  SignInOptions,
} from "./session-types.ts";

/** After a re-authentication failed for a transient reason, services wait this long before another try. */
const REAUTH_COOLDOWN_MS = 60_000;
/** `close()` waits at most this long for a sign-in step to end after its requests were cut. */
const CLOSE_WAIT_MS = 5_000;

/**
 * An iCloud web session for one account: the sign-in ladder (validate → accountLogin with stored
 * tokens → SRP → 2FA/2SV with a human in the loop) and the transport the data services use.
 *
 * Public sign-in methods resolve with a snapshot; a failed step leaves `state: "failed"` with a
 * ricloud-style `error` (`code-required`, `choice-required`, ...). They only throw for misuse
 * (INVALID_INPUT, INVALID_STATE).
 *
 * Blocked rule: after Apple refuses the password (invalid-credentials) or reports the account
 * locked, no further SRP sign-in is attempted automatically, also across restarts, until the
 * password changes (`setPassword` / constructor with a different password) or a caller passes
 * `{ force: true }` (the `login` command does). Stored tokens (validate/accountLogin) are still used.
 * While the session waits for a human (code/choice) or is blocked, service requests fail at once
 * with that error instead of signing in again.
 *
 * Processes sharing a store (see SessionSharing): only the holder of the account's sign-in lock
 * runs SRP and the code steps; the lock is held from the SRP until the session is active or the
 * sign-in failed, and while a code is awaited at most a code's lifetime. Another process waits for
 * the holder (`waiting_for` in the snapshot), then uses the session the holder stored, or fails
 * with SIGN_IN_BUSY. Before a full sign-in, when the web session expired, and while a code is
 * awaited, a session another process stored (a newer revision of the file, written while active)
 * is validated and used instead.
 */
export class ICloudSession implements ServiceTransport {
  readonly username: string;
  readonly #ctx: AuthContext;
  readonly #mfa: MfaFlow;
  readonly #store: SessionStore | undefined;
  readonly #sharing: SessionSharing | undefined;
  readonly #log: Logger;
  readonly #beforeFullSignIn: (() => void) | undefined;
  #password: string | undefined;
  #state: SessionState = "pending";
  #error: EngineError | undefined;
  readonly #listeners = new Set<SessionListener>();
  #queue: Promise<unknown> = Promise.resolve();
  #saving: Promise<void> = Promise.resolve();
  #reauth: Promise<void> | undefined;
  #reauthNotBefore = 0;
  #generation = 0;
  #loaded = false;
  #waitingFor: SignInHolder | null = null;
  /** `close()` started: no new step, request or wait; the step in flight ends. */
  #closing = false;
  /** `close()` finished: nothing is written any more. */
  #closed = false;

  constructor(options: ICloudSessionOptions) {
    this.username = options.username;
    this.#password = options.password;
    this.#store = options.store;
    this.#beforeFullSignIn = options.beforeFullSignIn;
    this.#log = (options.logger ?? silentLogger).child({ username: options.username });
    this.#sharing =
      options.store === undefined
        ? undefined
        : new SessionSharing(options.store, options.username, { ...options.sharing, logger: this.#log });
    this.#ctx = {
      http: new HttpClient({ ...options.http, logger: options.http?.logger ?? this.#log }),
      endpoints: resolveEndpoints(options),
      data: freshData(options.username),
      log: this.#log,
      persist: () => this.#persist(),
    };
    this.#mfa = new MfaFlow(this.#ctx);
  }

  /** Creates a session and loads what the store holds for the account. */
  static async open(options: ICloudSessionOptions): Promise<ICloudSession> {
    const session = new ICloudSession(options);
    await session.load();
    return session;
  }

  /** Loads the stored session (tokens, cookies). A corrupt file counts as no session. */
  async load(): Promise<void> {
    this.#loaded = true;
    const stored = await this.#store?.load(this.username);
    this.#sharing?.noteLoaded(stored);
    if (!stored) return;
    this.#ctx.data = stored;
    try {
      this.#ctx.http.jar = AppleCookieJar.fromSerialized(stored.cookies);
    } catch {
      this.#log.warn("stored cookies are unreadable; starting with an empty cookie jar");
      this.#ctx.http.jar = new AppleCookieJar();
    }
  }

  /**
   * Ends the session's use: requests and back-off waits in flight end (NOT_SIGNED_IN), the step in
   * flight is awaited (bounded), waits for other processes end, the account's sign-in lock is
   * released, pending writes of the session file finish and the connections close. After it
   * resolves the session writes nothing, holds no timer or socket, and refuses further steps and
   * requests. Front-ends call it when they stop using the session (a redeploy in the same process
   * must not find the lock still held, nor a Homebridge child bridge a socket keeping it alive).
   */
  async close(): Promise<void> {
    this.#closing = true;
    const http = this.#ctx.http.close();
    await this.#sharing?.close();
    if (!(await within(this.#queue, CLOSE_WAIT_MS)))
      this.#log.warn("a sign-in step did not end within 5 s of closing the session; not waiting for it");
    // A step that ended meanwhile may have taken the lock or started watching the file.
    await this.#sharing?.close();
    await http;
    await this.flush();
    this.#closed = true;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The current error as a EngineError (undefined unless failed/expired with an error). */
  get error(): EngineError | undefined {
    return this.#error;
  }

  snapshot(): SessionSnapshot {
    return snapshotOf(this.username, this.#state, this.#error, this.#ctx, this.#mfa.awaiting(), this.#waitingFor);
  }

  /** Called with a fresh snapshot after every state/error change. Returns an unsubscribe function. */
  onChange(listener: SessionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setPassword(password: string): void {
    this.#password = password;
  }

  /** Runs the sign-in ladder. Resolves with the snapshot (active, or failed with an error). */
  signIn(options: SignInOptions = {}): Promise<SessionSnapshot> {
    return this.#step(async () => {
      if (!this.#loaded) await this.load();
      this.#mfa.reset();
      this.#set("pending", undefined);
      await this.#ladder(options.force === true);
    });
  }

  /** A full sign-in again; with `force` even after invalid-credentials / account-locked. */
  reauthenticate(options: SignInOptions = {}): Promise<SessionSnapshot> {
    return this.signIn(options);
  }

  /** Submits the 2FA/2SV code the user received (6 digits for 2FA; leading zeros kept). */
  submitCode(code: string): Promise<SessionSnapshot> {
    return this.#step(
      async () => {
        if (await this.#reclaim()) return;
        await this.#mfa.verify(code);
        await this.#finishLogin();
      },
      () => {
        code = this.#mfa.checkCode(code);
      },
    );
  }

  /** Sends a new HSA2 code: to the trusted devices, or by SMS / voice call to a trusted number. */
  requestCode(options: RequestCodeOptions): Promise<SessionSnapshot> {
    return this.#step(async () => {
      if (this.#mfa.awaiting() !== null && (await this.#reclaim())) return;
      await this.#mfa.requestCode(options);
    });
  }

  /** Picks one of `error_info.choices` (a 2SV device, or a phone number for SMS/voice). */
  submitChoice(choice: string | number): Promise<SessionSnapshot> {
    return this.#step(async () => {
      if (this.#mfa.awaiting() !== null && (await this.#reclaim())) return;
      await this.#mfa.submitChoice(choice);
    });
  }

  // ---- ServiceTransport ----

  serviceUrl(name: WebserviceName): string | undefined {
    return webserviceUrl(this.#ctx, name);
  }

  async request(service: WebserviceName, path: string, options: ServiceRequestOptions = {}): Promise<ServiceResponse> {
    if (this.#closing) throw closedError();
    if (this.#ctx.data.webservices === undefined || this.#ctx.data.dsid === undefined) {
      throw new EngineError("NOT_SIGNED_IN", "the iCloud session is not signed in");
    }
    this.#throwIfWaiting();
    const reauthOn = options.reauthOn ?? [401, 421];
    const generation = this.#generation;
    const first = await serviceCall(this.#ctx, service, path, options);
    if (!reauthOn.includes(first.status)) return first;
    this.#log.info("service refused the web session; revalidating", { service, status: first.status });
    await this.#revalidate(generation);
    return serviceCall(this.#ctx, service, path, options);
  }

  download(
    url: string,
    options?: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<DownloadResponse> {
    if (this.#closing) return Promise.reject(closedError());
    return downloadUrl(this.#ctx, url, options);
  }

  /** Waits for pending writes of the session file. */
  async flush(): Promise<void> {
    await this.#saving;
  }

  // ---- internals ----

  /** Runs one user-facing step exclusively; sign-in outcomes end in the snapshot, misuse throws. */
  #step(run: () => Promise<void>, check?: () => void): Promise<SessionSnapshot> {
    return this.#exclusive(async () => {
      if (this.#closing) {
        this.#set("failed", closedError());
        return this.snapshot();
      }
      check?.();
      try {
        await run();
      } catch (error) {
        if (error instanceof EngineError && (error.code === "INVALID_INPUT" || error.code === "INVALID_STATE")) {
          await this.#settle(false);
          throw error;
        }
        this.#fail(error);
      }
      await this.#settle();
      return this.snapshot();
    });
  }

  async #ladder(force: boolean): Promise<void> {
    if (await this.#adoptNewer()) return;
    if ((await validateSession(this.#ctx)) === "ok") return this.#activate("validate");
    if ((await accountLogin(this.#ctx)) === "ok") return this.#activate("accountLogin");
    this.#throwIfClosing();
    const sharing = this.#sharing;
    if (sharing !== undefined) {
      const outcome = await sharing.acquire({
        waiting: (holder) => this.#setWaiting(holder),
        check: () => this.#adoptNewer(),
      });
      // The holder may have stored its session just before it released the lock.
      if (outcome === "adopted" || (await this.#adoptNewer())) return;
    }
    this.#throwIfClosing();
    await this.#srp(force);
  }

  /**
   * A code step after the lock was let go (the code's lifetime passed): takes the lock again
   * without waiting, or uses a session another process stored meanwhile (true).
   */
  async #reclaim(): Promise<boolean> {
    const sharing = this.#sharing;
    if (sharing === undefined || sharing.holding) return false;
    this.#throwIfClosing();
    try {
      await sharing.acquireNow();
    } catch (error) {
      // Another process is signing in: this sign-in's code would only race it.
      if (error instanceof EngineError && error.code === "SIGN_IN_BUSY") this.#mfa.reset();
      throw error;
    }
    return this.#adoptNewer();
  }

  /**
   * Uses the session another process stored since this one last loaded or wrote the file, when it
   * was written by an active session and still validates. A stored refusal of the password
   * (`blocked`) is taken over too, so the same password is not tried again.
   */
  async #adoptNewer(): Promise<boolean> {
    const sharing = this.#sharing;
    if (sharing === undefined) return false;
    const candidate = await sharing.unseen();
    if (candidate === undefined) return false;
    if (candidate.revision?.active !== true) {
      sharing.markSeen(candidate);
      this.#takeBlocked(candidate);
      return false;
    }
    // A transient failure (network, 503) throws before markSeen: the candidate is tried again.
    const tried = await this.#trial(candidate);
    sharing.markSeen(candidate);
    if (tried === undefined) {
      this.#log.info("the session another process stored is not valid any more");
      this.#takeBlocked(candidate);
      return false;
    }
    this.#ctx.data = tried.data;
    this.#ctx.http.jar = tried.jar;
    await this.#activate("session stored by another process");
    return true;
  }

  /** Validates a stored session on its own HTTP client and cookie jar, leaving this session untouched. */
  async #trial(candidate: StoredSession): Promise<{ data: StoredSession; jar: AppleCookieJar } | undefined> {
    let jar: AppleCookieJar;
    try {
      jar = AppleCookieJar.fromSerialized(candidate.cookies);
    } catch {
      return undefined;
    }
    // Its own cookie jar on the session's connections (ended by `close()` too).
    const http = this.#ctx.http.fork();
    http.jar = jar;
    const ctx: AuthContext = {
      http,
      endpoints: this.#ctx.endpoints,
      data: structuredClone(candidate),
      log: this.#log,
      persist: () => Promise.resolve(),
    };
    if ((await validateSession(ctx)) === "ok" || (await accountLogin(ctx)) === "ok") return { data: ctx.data, jar };
    return undefined;
  }

  #takeBlocked(candidate: StoredSession): void {
    if (candidate.blocked !== undefined && this.#ctx.data.blocked === undefined)
      this.#ctx.data.blocked = candidate.blocked;
  }

  /**
   * After each step: keep the lock (and watch the file) while a code is awaited, else let it go.
   * `freshCode`: the step sent a new code or asked for a choice (the hold starts again).
   */
  async #settle(
    freshCode = this.#error?.code === "CODE_REQUIRED" || this.#error?.code === "CHOICE_REQUIRED",
  ): Promise<void> {
    const sharing = this.#sharing;
    if (sharing === undefined) return;
    if (this.#mfa.awaiting() !== null && this.#state !== "active" && !this.#closing) {
      if (sharing.holding) sharing.holdForCode(freshCode);
      sharing.watch(() => this.#pickUpStored());
      return;
    }
    sharing.unwatch();
    await sharing.release();
  }

  /** While a code is awaited: another process may have completed a sign-in; use its session. */
  #pickUpStored(): void {
    void this.#exclusive(async () => {
      if (this.#closing || this.#mfa.awaiting() === null || this.#state === "active") return;
      try {
        if (await this.#adoptNewer()) await this.#settle();
      } catch (error) {
        this.#log.debug("could not try the session another process stored", {
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    });
  }

  #setWaiting(holder: LockHolder | null | undefined): void {
    this.#waitingFor = holder === undefined ? null : (signInHolder(holder ?? {}) ?? null);
    this.#set(this.#state, this.#error);
  }

  async #srp(force: boolean): Promise<void> {
    // A step after Apple accepted the password (or the code) failed: resume it, no second sign-in.
    if (await this.#mfa.resume()) return this.#finishLogin();
    const data = this.#ctx.data;
    const password = this.#password;
    if (data.blocked !== undefined && !force) {
      const check = data.blocked.password_check;
      const changed = password !== undefined && check !== undefined && !samePassword(password, check);
      if (!changed) {
        const code: ErrorCode = data.blocked.error === "account-locked" ? "ACCOUNT_LOCKED" : "INVALID_CREDENTIALS";
        throw new EngineError(
          code,
          `Apple refused the last sign-in (${data.blocked.error}); not retrying automatically`,
          {
            info: { blocked_since: data.blocked.since },
          },
        );
      }
    }
    if (password === undefined) throw new EngineError("NOT_SIGNED_IN", "a password is needed to sign in again");
    this.#beforeFullSignIn?.();
    let outcome: Awaited<ReturnType<typeof srpSignIn>>;
    try {
      outcome = await srpSignIn(this.#ctx, password);
    } catch (error) {
      if (error instanceof EngineError && (error.code === "INVALID_CREDENTIALS" || error.code === "ACCOUNT_LOCKED")) {
        const kind = error.code === "ACCOUNT_LOCKED" ? "account-locked" : "invalid-credentials";
        data.blocked = { error: kind, since: new Date().toISOString(), password_check: passwordCheck(password) };
        await this.#persist();
      }
      throw error;
    }
    data.blocked = undefined;
    if (outcome === "hsa2") return this.#mfa.startHsa2();
    if (outcome === "repair") await repairComplete(this.#ctx);
    await this.#finishLogin();
  }

  async #finishLogin(): Promise<void> {
    const outcome = await accountLogin(this.#ctx);
    if (outcome === undefined)
      throw new EngineError("UNEXPECTED_RESPONSE", "accountLogin refused a fresh session token");
    if (outcome === "ok") return this.#activate("sign-in");
    if (outcome === "hsa2") return this.#mfa.startHsa2();
    return this.#mfa.startTwoSv();
  }

  #throwIfClosing(): void {
    if (this.#closing) throw closedError();
  }

  /** Services must not trigger sign-ins while a human is needed, nor hammer Apple after a failure. */
  #throwIfWaiting(): void {
    const error = this.#error;
    if (error === undefined || this.#state === "active") return;
    if (!error.retryable || Date.now() < this.#reauthNotBefore) throw error;
  }

  async #revalidate(generation: number): Promise<void> {
    if (this.#generation !== generation) return;
    if (this.#reauth === undefined) {
      this.#reauth = this.#exclusive(async () => {
        if (this.#generation !== generation) return;
        this.#set("expired", undefined);
        try {
          await this.#ladder(false);
        } catch (error) {
          this.#fail(error);
          const err = toEngineError(error);
          if (err.retryable)
            this.#reauthNotBefore = Date.now() + Math.max(REAUTH_COOLDOWN_MS, (err.retryAfter ?? 0) * 1000);
          throw err;
        } finally {
          await this.#settle();
        }
      }).finally(() => {
        this.#reauth = undefined;
      });
    }
    await this.#reauth;
  }

  async #activate(via: string): Promise<void> {
    this.#mfa.reset(true);
    this.#ctx.data.blocked = undefined;
    this.#generation += 1;
    this.#reauthNotBefore = 0;
    this.#log.info("iCloud session active", { via });
    await this.#persist(true);
    this.#set("active", undefined);
  }

  #fail(error: unknown): void {
    const err = toEngineError(error);
    const state: SessionState = this.#state === "expired" && err.retryable ? "expired" : "failed";
    if (err.code === "CODE_REQUIRED" || err.code === "CHOICE_REQUIRED" || err.code === "CODE_INVALID") {
      this.#log.info("sign-in needs the user", { error: err.sessionError });
    } else {
      this.#log.warn("sign-in failed", { error: err.sessionError, reason: err.message });
    }
    this.#set(state, err);
  }

  #set(state: SessionState, error: EngineError | undefined): void {
    this.#state = state;
    this.#error = error;
    const snapshot = this.snapshot();
    for (const listener of this.#listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.#log.warn("session listener threw", { reason: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Saves the session with a new revision. `active`: written by an active session (others may
   * take it over). A newer active session another process stored is not overwritten, except by
   * the lock holder storing the session its sign-in just made active.
   */
  #persist(active = this.#state === "active"): Promise<void> {
    const store = this.#store;
    const sharing = this.#sharing;
    if (store === undefined || sharing === undefined) return Promise.resolve();
    if (this.#closed) {
      this.#log.debug("not saving the session: it was closed");
      return Promise.resolve();
    }
    this.#ctx.data.cookies = this.#ctx.http.jar.serialize();
    const copy: StoredSession = structuredClone(this.#ctx.data);
    const authoritative = active && sharing.holding;
    this.#saving = this.#saving
      .then(async () => {
        if (!(await sharing.mayWrite(authoritative))) return;
        sharing.stamp(copy, active);
        await store.save(copy);
      })
      .catch((error: unknown) => {
        this.#log.warn("could not save the session", {
          reason: error instanceof Error ? error.message : String(error),
        });
      });
    return this.#saving;
  }
}

function freshData(username: string): StoredSession {
  return { version: 1, username, client_id: `auth-${randomUUID()}`, srp_sign_ins: 0 };
}
