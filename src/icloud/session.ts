import { randomUUID } from "node:crypto";
import { EngineError, type ErrorCode, toEngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import type { AuthContext } from "./auth-context.ts";
import { accountLogin, repairComplete, srpSignIn, validateSession } from "./auth-steps.ts";
import { AppleCookieJar } from "./cookie-jar.ts";
import { resolveEndpoints } from "./endpoints.ts";
import { HttpClient } from "./http.ts";
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
import { snapshotOf } from "./session-snapshot.ts";
import type { SessionStore, StoredSession } from "./session-store.ts";
import type {
  ICloudSessionOptions,
  RequestCodeOptions,
  SessionListener,
  SessionSnapshot,
  SessionState,
  SignInOptions,
} from "./session-types.ts";

/** After a re-authentication failed for a transient reason, services wait this long before another try. */
const REAUTH_COOLDOWN_MS = 60_000;

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
 */
export class ICloudSession implements ServiceTransport {
  readonly username: string;
  readonly #ctx: AuthContext;
  readonly #mfa: MfaFlow;
  readonly #store: SessionStore | undefined;
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

  constructor(options: ICloudSessionOptions) {
    this.username = options.username;
    this.#password = options.password;
    this.#store = options.store;
    this.#beforeFullSignIn = options.beforeFullSignIn;
    this.#log = (options.logger ?? silentLogger).child({ username: options.username });
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
    if (!stored) return;
    this.#ctx.data = stored;
    try {
      this.#ctx.http.jar = AppleCookieJar.fromSerialized(stored.cookies);
    } catch {
      this.#log.warn("stored cookies are unreadable; starting with an empty cookie jar");
      this.#ctx.http.jar = new AppleCookieJar();
    }
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The current error as a EngineError (undefined unless failed/expired with an error). */
  get error(): EngineError | undefined {
    return this.#error;
  }

  snapshot(): SessionSnapshot {
    return snapshotOf(this.username, this.#state, this.#error, this.#ctx, this.#mfa.awaiting());
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
    return this.#step(() => this.#mfa.requestCode(options));
  }

  /** Picks one of `error_info.choices` (a 2SV device, or a phone number for SMS/voice). */
  submitChoice(choice: string | number): Promise<SessionSnapshot> {
    return this.#step(() => this.#mfa.submitChoice(choice));
  }

  // ---- ServiceTransport ----

  serviceUrl(name: WebserviceName): string | undefined {
    return webserviceUrl(this.#ctx, name);
  }

  async request(service: WebserviceName, path: string, options: ServiceRequestOptions = {}): Promise<ServiceResponse> {
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
      check?.();
      try {
        await run();
      } catch (error) {
        if (error instanceof EngineError && (error.code === "INVALID_INPUT" || error.code === "INVALID_STATE"))
          throw error;
        this.#fail(error);
      }
      return this.snapshot();
    });
  }

  async #ladder(force: boolean): Promise<void> {
    if ((await validateSession(this.#ctx)) === "ok") return this.#activate("validate");
    if ((await accountLogin(this.#ctx)) === "ok") return this.#activate("accountLogin");
    await this.#srp(force);
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
    await this.#persist();
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

  #persist(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    this.#ctx.data.cookies = this.#ctx.http.jar.serialize();
    const copy: StoredSession = structuredClone(this.#ctx.data);
    this.#saving = this.#saving
      .then(() => store.save(copy))
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
