import { randomUUID } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { basename } from "node:path";
import { EngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { AccountLock, type AccountLockOptions, type LockHolder, type LockLease } from "./account-lock.ts";
import type { SessionStore, StoredSession } from "./session-store.ts";

export interface SessionSharingOptions {
  /**
   * Longest wait for another process's sign-in before giving up with SIGN_IN_BUSY. Default 11 min:
   * a holder keeps the lock at most a code's lifetime while it waits for a code.
   */
  waitMs?: number;
  /** How long the lock stays held while a code or choice is awaited. Default 10 min (a code's lifetime at Apple). */
  codeHoldMs?: number;
  /** How often the session file and the lock are checked while waiting (fs.watch wakes earlier). Default 2 s. */
  pollMs?: number;
  /** Heartbeat and staleness of the lock file. */
  lock?: Omit<AccountLockOptions, "logger">;
}

export const DEFAULT_CODE_HOLD_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = DEFAULT_CODE_HOLD_MS + 60_000;
const DEFAULT_POLL_MS = 2_000;
/** Changes of the session file arrive in bursts (temp file, rename): react once. */
const WATCH_SETTLE_MS = 100;

export interface AcquireHooks {
  /** Called once when the wait starts (with the holder, null when unreadable) and with undefined when it ends. */
  waiting(holder: LockHolder | null | undefined): void;
  /** Called after each pause; true when the session another process stored was taken over (stop waiting). */
  check(): Promise<boolean>;
}

/**
 * What one account's session shares with other processes on the same state folder: the sign-in
 * lock (only its holder runs SRP and the code steps) and the session file's revisions (who wrote
 * it last, and whether that writer's session was active), so a process notices a session another
 * process stored and tries it before signing in itself.
 */
export class SessionSharing {
  readonly #store: SessionStore;
  readonly #username: string;
  readonly #lock: AccountLock;
  readonly #log: Logger;
  readonly #dir: string;
  readonly #prefix: string;
  readonly #waitMs: number;
  readonly #codeHoldMs: number;
  readonly #pollMs: number;
  readonly #wakers = new Set<() => void>();
  #lease: LockLease | undefined;
  #seen: string | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  #watcher: { stop(): void } | undefined;
  /** Incremented by `close()`: waits that started before end. */
  #epoch = 0;
  #keptTheirs: string | undefined;

  constructor(store: SessionStore, username: string, options: SessionSharingOptions & { logger?: Logger } = {}) {
    this.#store = store;
    this.#username = username;
    this.#log = options.logger ?? silentLogger;
    this.#lock = new AccountLock(store.lockPathFor(username), { ...options.lock, logger: this.#log });
    this.#dir = store.dir;
    this.#prefix = basename(store.lockPathFor(username)).replace(/\.lock$/, "");
    this.#waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    this.#codeHoldMs = options.codeHoldMs ?? DEFAULT_CODE_HOLD_MS;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Whether this process holds the account's sign-in lock now. */
  get holding(): boolean {
    const lease = this.#lease;
    return lease !== undefined && !lease.released && !lease.lost;
  }

  /** Remembers the revision this process loaded (nothing newer has been seen yet). */
  noteLoaded(stored: StoredSession | undefined): void {
    this.#seen = stored?.revision?.id;
  }

  /** Marks a revision as looked at: it is not tried again, and may be overwritten. */
  markSeen(stored: StoredSession): void {
    this.#seen = stored.revision?.id;
  }

  /** The session file when another process wrote it since this one last loaded, wrote or tried it. */
  async unseen(): Promise<StoredSession | undefined> {
    const disk = await this.#store.load(this.#username, { quiet: true }).catch(() => undefined);
    const id = disk?.revision?.id;
    if (disk === undefined || id === undefined || id === this.#seen) return undefined;
    return disk;
  }

  /**
   * Whether a write may replace the file. An active session stored by another process that this
   * one has not looked at yet is kept, unless this write is authoritative (the lock holder storing
   * the session its sign-in just made active): the other process's sign-in is newer.
   */
  async mayWrite(authoritative: boolean): Promise<boolean> {
    if (authoritative) return true;
    const disk = await this.#store.load(this.#username, { quiet: true }).catch(() => undefined);
    const revision = disk?.revision;
    if (revision === undefined || revision.id === this.#seen || !revision.active) return true;
    if (this.#keptTheirs !== revision.id) {
      this.#keptTheirs = revision.id;
      this.#log.info("the session file holds a newer session stored by another process; keeping it", {
        writer_pid: revision.pid ?? null,
      });
    }
    return false;
  }

  /** Stamps a copy about to be written with a new revision, which counts as seen. */
  stamp(copy: StoredSession, active: boolean): void {
    copy.revision = { id: randomUUID(), at: new Date().toISOString(), pid: process.pid, active };
    this.#seen = copy.revision.id;
  }

  /**
   * Takes the sign-in lock, waiting while another live process holds it. Resolves "acquired", or
   * "adopted" when `check` took over the session the holder stored. Throws SIGN_IN_BUSY when the
   * wait bound passes.
   */
  async acquire(hooks: AcquireHooks): Promise<"acquired" | "adopted"> {
    if (this.holding) return "acquired";
    const deadline = Date.now() + this.#waitMs;
    const epoch = this.#epoch;
    let announced = false;
    try {
      for (;;) {
        this.#throwIfClosed(epoch);
        const result = await this.#lock.tryAcquire();
        if (result.ok) {
          this.#lease = result.lease;
          return "acquired";
        }
        if (!announced) {
          announced = true;
          this.#log.info(
            "another process is signing in to this account; waiting for it instead of signing in a second time",
            { holder: result.holder, wait_s: Math.round(this.#waitMs / 1000) },
          );
          hooks.waiting(result.holder);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw busyError(result.holder, this.#waitMs);
        await this.#pause(Math.min(this.#pollMs, left));
        this.#throwIfClosed(epoch);
        if (await hooks.check()) return "adopted";
      }
    } finally {
      if (announced) hooks.waiting(undefined);
    }
  }

  /** Takes the lock without waiting (a code step after the hold ran out); SIGN_IN_BUSY when held. */
  async acquireNow(): Promise<void> {
    if (this.holding) return;
    const result = await this.#lock.tryAcquire();
    if (!result.ok) throw busyError(result.holder, 0);
    this.#lease = result.lease;
  }

  /**
   * Keeps the lock while a code is awaited, at most a code's lifetime: from now when a new code
   * was sent (`fresh`), else from when the current code was sent.
   */
  holdForCode(fresh: boolean): void {
    if (this.#holdTimer !== undefined && !fresh) return;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined;
      this.#log.info("no code was entered within a code's lifetime; other processes may sign in now");
      void this.release();
    }, this.#codeHoldMs);
    this.#holdTimer.unref();
  }

  async release(): Promise<void> {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release().catch((error: unknown) => {
      this.#log.warn("could not release the sign-in lock", {
        reason: error instanceof Error ? error.message : String(error),
      });
    });
  }

  /** Calls `onChange` when the session file or the lock may have changed (fs.watch, and a poll). */
  watch(onChange: () => void): void {
    if (this.#watcher !== undefined) return;
    let pending: NodeJS.Timeout | undefined;
    const fire = (): void => {
      if (pending !== undefined) return;
      pending = setTimeout(() => {
        pending = undefined;
        onChange();
      }, WATCH_SETTLE_MS);
      pending.unref();
    };
    const fsWatcher = this.#watchDir(fire);
    const poll = setInterval(fire, Math.max(this.#pollMs, 1000));
    poll.unref();
    this.#watcher = {
      stop: () => {
        clearTimeout(pending);
        clearInterval(poll);
        fsWatcher?.close();
      },
    };
  }

  unwatch(): void {
    this.#watcher?.stop();
    this.#watcher = undefined;
  }

  /** Ends the waits in progress (they throw), stops watching and releases the lock. */
  async close(): Promise<void> {
    this.#epoch += 1;
    for (const wake of [...this.#wakers]) wake();
    this.unwatch();
    await this.release();
  }

  #throwIfClosed(epoch: number): void {
    if (epoch !== this.#epoch)
      throw new EngineError("NOT_SIGNED_IN", "the session was closed while waiting for another process's sign-in");
  }

  /** Waits `ms`, or less when something happens to the account's files. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        watcher?.close();
        this.#wakers.delete(done);
        resolve();
      };
      // Not unref'd: a process whose only task is this sign-in (the login command) must stay alive.
      const timer = setTimeout(done, ms);
      const watcher = this.#watchDir(done);
      this.#wakers.add(done);
    });
  }

  #watchDir(onEvent: () => void): FSWatcher | undefined {
    try {
      const watcher = watch(this.#dir, { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(this.#prefix)) onEvent();
      });
      watcher.on("error", () => watcher.close());
      return watcher;
    } catch {
      return undefined; // no fs.watch here (or no folder yet): the poll interval still runs
    }
  }
}

function busyError(holder: LockHolder | null, waitedMs: number): EngineError {
  const who =
    holder === null
      ? "another process"
      : `another process (pid ${holder.pid}, ${holder.command}, on ${holder.host} since ${holder.since})`;
  const waited = waitedMs > 0 ? ` and did not finish within ${Math.round(waitedMs / 1000)} s` : "";
  return new EngineError(
    "SIGN_IN_BUSY",
    `${who} is signing in to this Apple Account${waited}; not starting a second sign-in`,
    { info: { holder: holder ?? { pid: null, host: null, command: null, since: null } } },
  );
}
