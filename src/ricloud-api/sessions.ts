import type { AccountState } from "../engine/account-state.ts";
import type { EngineApi } from "../engine/api.ts";
import type { SessionOutcome } from "../engine/commands.ts";
import { ERROR_CODES, isEngineError, toEngineError } from "../errors.ts";
import type { RateLimiter } from "../http/rate-limit.ts";
import type { Logger } from "../logger.ts";
import { RicloudError } from "./errors.ts";
import type { EventHub } from "./events.ts";
import type { Session, Source } from "./records.ts";
import { ORGANISATION_ID, render } from "./resources.ts";
import type { ApiStore } from "./store.ts";
import { isoNow, newId } from "./time.ts";
import { Waiters } from "./waiters.ts";

/** What a caller passes in `payload` (held in memory only while the attempt runs). */
export interface SessionPayload {
  password?: string | undefined;
  code?: string | undefined;
  choice?: string | undefined;
}

/** Whether `candidate` is the configured password of an account; `unknown` when none is configured. */
export type PasswordVerifier = (account: string, candidate: string) => "match" | "mismatch" | "unknown";

type Outcome = { state: "active" } | { state: "failed"; error: string; error_info: Record<string, unknown> | null };

/** How long an attempt waits for a sign-in the engine is already running. */
const SETTLE_MS = 60_000;
const NON_RETRYABLE = new Set<string>(
  Object.values(ERROR_CODES)
    .filter((code) => !code.retryable)
    .map((code) => code.session),
);

function failed(error: string, error_info: Record<string, unknown> | null = null): Outcome {
  return { state: "failed", error, error_info };
}

/** An engine state that is about to change by itself: a sign-in or restore is running. */
function inFlux(state: AccountState): boolean {
  return (
    state.session.state !== "active" &&
    (state.state === "running" || state.session.state === "pending" || state.session.state === "expired")
  );
}

export interface SessionManagerOptions {
  api: EngineApi;
  store: ApiStore;
  events: EventHub;
  verifyPassword: PasswordVerifier;
  codeLimiter: RateLimiter;
  log: Logger;
}

/**
 * ricloud sessions on top of the engine's one session per account. A session resource is one
 * attempt: it starts `pending`, then becomes `active` or `failed` with ricloud's error
 * (`code-required`, `choice-required` + `error_info.choices`, `code-invalid`, `invalid-credentials`, …).
 * Nothing here signs in by itself: an attempt reads the account's state and, depending on what the
 * engine waits for, runs the engine's `choice`, `mfa` or `reauthenticate` command (the latter only
 * when the engine is neither signed in nor waiting, so there is never a second sign-in). The password
 * is compared with the configured one and never sent to Apple by this API. Active sessions expire
 * when the engine's session is lost for a reason that needs a person (a new code, a wrong password).
 */
export class SessionManager {
  readonly #o: SessionManagerOptions;
  /** Attempts waiting for an account's sign-in to settle, by account. */
  readonly #accounts = new Waiters();
  /** Requests holding for a session to settle (`Ricloud-Await`), by session. */
  readonly #sessions = new Waiters();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: SessionManagerOptions) {
    this.#o = options;
  }

  start(): void {
    const { store } = this.#o;
    // Attempts cut short by a restart cannot be resumed (their password is gone).
    for (const session of store.state.sessions) {
      if (session.state !== "pending") continue;
      session.state = "failed";
      session.error = "interrupted";
    }
    store.changed();
    this.#o.api.bus.on(this, "account.state", (state) => this.#onAccountState(state));
  }

  /** Starts no further engine command and waits for the attempts running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.api.bus.removeListeners(this);
    this.#accounts.wakeAll();
    this.#sessions.wakeAll();
    await Promise.allSettled([...this.#running]);
  }

  /** Records a new attempt (`pending`) and runs it in the background. */
  create(key: string, source: Source, payload: SessionPayload): Session {
    const account = source._account;
    if (payload.code !== undefined) {
      const wait = this.#o.codeLimiter.hit(account);
      if (wait > 0)
        throw new RicloudError(
          429,
          "limit-exceeded",
          `too many verification attempts; try again in ${wait} seconds`,
          {},
          { "retry-after": String(wait) },
        );
    }
    const session: Session = {
      id: newId(),
      resource: "session",
      organisation: ORGANISATION_ID,
      key,
      user: source.user,
      source: source.id,
      state: "pending",
      error: null,
      error_info: null,
      date_created: isoNow(),
      date_expired: null,
    };
    this.#o.store.state.sessions.push(session);
    this.#o.store.changed();
    const run = this.#run(session, source, payload);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return session;
  }

  /** Ends a session (DELETE): it expires; the engine's sign-in is left alone. */
  end(session: Session): void {
    if (session.state === "active" || session.state === "pending") {
      session.state = "expired";
      session.date_expired = isoNow();
      this.#o.store.changed();
      this.#sessions.wake(session.id);
    }
  }

  /** Resolves when the session is no longer `pending`, or after `ms`. */
  async settled(session: Session, ms: number): Promise<void> {
    if (session.state !== "pending" || ms <= 0) return;
    await this.#sessions.wait(session.id, ms);
  }

  async #run(session: Session, source: Source, payload: SessionPayload): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#attempt(source._account, payload);
    } catch (error) {
      const failure = toEngineError(error);
      this.#o.log.warn("session attempt failed", { session: session.id, code: failure.code });
      outcome = failed(failure.sessionError);
    }
    if (session.state !== "pending") return; // ended meanwhile
    if (outcome.state === "active") {
      session.state = "active";
      source.state = "active";
    } else {
      session.state = "failed";
      session.error = outcome.error;
      session.error_info = outcome.error_info;
    }
    this.#o.log.info("ricloud session settled", { session: session.id, state: session.state, error: session.error });
    this.#o.store.changed();
    this.#sessions.wake(session.id);
  }

  async #attempt(account: string, payload: SessionPayload): Promise<Outcome> {
    const { api } = this.#o;
    if (this.#o.verifyPassword(account, payload.password ?? "") === "mismatch") {
      return failed("invalid-credentials");
    }
    for (let round = 0; round < 4 && !this.#stopped; round++) {
      const state = api.snapshot(account).state;
      const view = state.session;
      if (view.state === "active") return { state: "active" };
      if (state.state === "blocked") return this.#answerBlocked(account, state, payload);
      if (inFlux(state)) {
        await this.#accounts.wait(account, SETTLE_MS);
        continue;
      }
      // Ready but not signed in: after the code wait timed out, or before any sign-in, start one.
      const stale = view.error === "code-required" || view.error === "choice-required" || view.error === null;
      if (!stale) return failed(view.error ?? "service-unavailable");
      return this.#outcome(account, await api.execute("reauthenticate", { account }));
    }
    return failed("service-unavailable");
  }

  /** The engine waits for a choice or a code: pass on what the payload holds. */
  async #answerBlocked(account: string, state: AccountState, payload: SessionPayload): Promise<Outcome> {
    const { api } = this.#o;
    const view = state.session;
    if (view.error === "choice-required") {
      const choices = view.error_info?.choices ?? [];
      if (payload.choice === undefined) return failed("choice-required", { choices });
      if (!choices.includes(payload.choice)) return failed("choice-invalid", { choices });
      return this.#outcome(account, await api.execute("choice", { account, choice: payload.choice }));
    }
    if (payload.code === undefined) return failed("code-required");
    try {
      return this.#outcome(account, await api.execute("mfa", { account, code: payload.code }));
    } catch (error) {
      if (isEngineError(error, "CODE_INVALID") || isEngineError(error, "INVALID_INPUT")) return failed("code-invalid");
      throw error;
    }
  }

  #outcome(account: string, outcome: SessionOutcome): Outcome {
    if (outcome.session === "active") return { state: "active" };
    if (outcome.awaiting === "choice") {
      const choices = this.#o.api.snapshot(account).state.session.error_info?.choices ?? [];
      return failed("choice-required", { choices });
    }
    if (outcome.awaiting === "code") return failed("code-required");
    return failed(outcome.error ?? "service-unavailable");
  }

  #onAccountState(state: AccountState): void {
    if (!inFlux(state)) this.#accounts.wake(state.account);
    const lost =
      state.state === "blocked" ||
      (state.session.state === "failed" && state.session.error !== null && NON_RETRYABLE.has(state.session.error));
    if (!lost) return;
    const { store } = this.#o;
    const accountSources = new Set(store.state.sources.filter((s) => s._account === state.account).map((s) => s.id));
    for (const session of store.state.sessions) {
      if (session.state !== "active" || !accountSources.has(session.source)) continue;
      session.state = "expired";
      session.error = state.session.error ?? "session-expired";
      session.date_expired = isoNow();
      this.#o.events.emit("session", "expired", render(session), session.key);
    }
    store.changed();
  }
}
