import { randomUUID } from "node:crypto";
import { statSync, unlinkSync } from "node:fs";
import { type FileHandle, link, mkdir, open, rename, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname } from "node:path";
import { z } from "zod";
import { type Logger, silentLogger } from "../logger.ts";

/*
 * An advisory lock per account, so that only one process at a time runs a full sign-in.
 *
 * Why not a lock library: proper-lockfile, the usual choice on npm, locks with a directory and
 * judges staleness by its mtime alone. It cannot carry who holds the lock in the lock itself, so a
 * waiting process could neither name the holder (pid, command, since) in SIGN_IN_BUSY nor see at
 * once that the holder was killed (`process.kill(pid, 0)`); it would wait for the mtime bound
 * after every crash. The lock here is a small JSON file created with O_EXCL ("wx"), naming its
 * holder, kept fresh by touching its mtime (the heartbeat).
 *
 * Stale recovery is atomic: the stale file is renamed aside (only one process can rename a given
 * file), and the renamed file is checked to be the very file judged stale (inode + token); if a
 * racing process had already replaced it with a fresh lock, that lock is linked back.
 */

/** Who holds an account's sign-in lock. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's command, e.g. `icloud2mqtt run` (see `setLockCommand`). */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface AccountLockOptions {
  /** How often the holder touches the lock. Default 15 s. */
  heartbeatMs?: number;
  /** A lock not touched for this long is stale, whoever holds it. Default 2 min. */
  staleMs?: number;
  logger?: Logger;
}

export type AcquireResult = { ok: true; lease: LockLease } | { ok: false; holder: LockHolder | null };

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_STALE_MS = 120_000;
const MAX_COMMAND = 120;

const lockRecordSchema = z
  .object({
    version: z.literal(1),
    token: z.string().min(1),
    pid: z.number().int(),
    host: z.string(),
    command: z.string(),
    since: z.string(),
  })
  .loose();
type LockRecord = z.infer<typeof lockRecordSchema>;

interface SeenLock {
  record: LockRecord | undefined;
  ino: number;
  dev: number;
  mtimeMs: number;
}

let lockCommand: string | undefined;

/** Names this process in the locks it takes (front-ends call it once, e.g. `icloud2mqtt login`). */
export function setLockCommand(command: string): void {
  lockCommand = command.slice(0, MAX_COMMAND);
}

function currentCommand(): string {
  if (lockCommand !== undefined) return lockCommand;
  const script = process.argv[1];
  return basename(script ?? process.execPath).slice(0, MAX_COMMAND);
}

/** One account's lock file. Creating the object touches nothing. */
export class AccountLock {
  readonly path: string;
  readonly #heartbeatMs: number;
  readonly #staleMs: number;
  readonly #log: Logger;

  constructor(path: string, options: AccountLockOptions = {}) {
    this.path = path;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.#log = options.logger ?? silentLogger;
  }

  /** Takes the lock if it is free or stale; otherwise says who holds it (null when unreadable). */
  async tryAcquire(): Promise<AcquireResult> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let holder: LockHolder | null = null;
    for (let attempt = 0; attempt < 4; attempt++) {
      const lease = await this.#create();
      if (lease !== undefined) return { ok: true, lease };
      const seen = await inspect(this.path);
      if (seen === undefined) continue; // released meanwhile
      holder = seen.record === undefined ? null : holderOf(seen.record);
      const reason = this.#staleReason(seen);
      if (reason === undefined) return { ok: false, holder };
      this.#log.warn("recovering a stale sign-in lock", { reason, ...(holder ?? {}) });
      await this.#recover(seen);
    }
    return { ok: false, holder };
  }

  /** The live holder, or undefined when the lock is free or stale. */
  async holder(): Promise<LockHolder | null | undefined> {
    const seen = await inspect(this.path);
    if (seen === undefined || this.#staleReason(seen) !== undefined) return undefined;
    return seen.record === undefined ? null : holderOf(seen.record);
  }

  async #create(): Promise<LockLease | undefined> {
    const record: LockRecord = {
      version: 1,
      token: randomUUID(),
      pid: process.pid,
      host: hostname(),
      command: currentCommand(),
      since: new Date().toISOString(),
    };
    let handle: FileHandle;
    try {
      handle = await open(this.path, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
      throw error;
    }
    leases.set(record.token, undefined); // ours from now on, also while the content is written
    try {
      await handle.writeFile(`${JSON.stringify(record)}\n`, "utf8");
      await handle.sync();
      const st = await handle.stat();
      const lease = new LockLease(this.path, record, st.ino, st.dev, this.#heartbeatMs, this.#log);
      leases.set(record.token, lease);
      hookProcessExit();
      return lease;
    } catch (error) {
      leases.delete(record.token);
      await rm(this.path, { force: true }).catch(() => undefined);
      throw error;
    } finally {
      await handle.close();
    }
  }

  #staleReason(seen: SeenLock): string | undefined {
    const record = seen.record;
    if (record !== undefined && record.host === hostname()) {
      if (record.pid === process.pid) {
        // Our pid but not one of our leases: left by an earlier process that had the same pid
        // (a container restarted with pid 1).
        if (!leases.has(record.token)) return "left by an earlier process with this pid";
      } else if (!isAlive(record.pid)) {
        return "the holder process is gone";
      }
    }
    if (Date.now() - seen.mtimeMs > this.#staleMs) return "no heartbeat";
    return undefined;
  }

  async #recover(seen: SeenLock): Promise<void> {
    const aside = `${this.path}.${randomUUID()}.stale`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    try {
      const moved = await inspect(aside);
      const same =
        moved !== undefined &&
        moved.ino === seen.ino &&
        moved.dev === seen.dev &&
        moved.record?.token === seen.record?.token;
      if (moved !== undefined && !same) {
        // Another process recovered the stale lock first and took a fresh one: give it back.
        await link(aside, this.path).catch((error: unknown) => {
          this.#log.warn("could not restore a sign-in lock moved during stale recovery", {
            reason: error instanceof Error ? error.message : String(error),
          });
        });
      }
    } finally {
      await rm(aside, { force: true });
    }
  }
}

/** A held lock: touched every heartbeat until released. */
export class LockLease {
  readonly path: string;
  readonly holder: LockHolder;
  readonly token: string;
  readonly #ino: number;
  readonly #dev: number;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #lost = false;
  #released = false;

  constructor(path: string, record: LockRecord, ino: number, dev: number, heartbeatMs: number, log: Logger) {
    this.path = path;
    this.holder = holderOf(record);
    this.token = record.token;
    this.#ino = ino;
    this.#dev = dev;
    this.#log = log;
    this.#timer = setInterval(() => void this.#beat(), heartbeatMs);
    this.#timer.unref();
  }

  /** True once the lock file was found replaced or removed by someone else. */
  get lost(): boolean {
    return this.#lost;
  }

  get released(): boolean {
    return this.#released;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#finish();
    if (this.#lost) return;
    try {
      const st = await stat(this.path);
      if (st.ino === this.#ino && st.dev === this.#dev) await rm(this.path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  /** For the process `exit` handler: nothing asynchronous runs there. */
  releaseSync(): void {
    if (this.#released) return;
    this.#finish();
    if (this.#lost) return;
    try {
      const st = statSync(this.path);
      if (st.ino === this.#ino && st.dev === this.#dev) unlinkSync(this.path);
    } catch {
      // Gone already, or the folder is unreachable: nothing to release.
    }
  }

  #finish(): void {
    this.#released = true;
    clearInterval(this.#timer);
    leases.delete(this.token);
    unhookIfIdle();
  }

  async #beat(): Promise<void> {
    if (this.#released || this.#lost) return;
    try {
      const st = await stat(this.path);
      if (st.ino !== this.#ino || st.dev !== this.#dev) throw Object.assign(new Error("replaced"), { code: "ENOENT" });
      const now = new Date();
      await utimes(this.path, now, now);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || this.#released) return;
      this.#lost = true;
      clearInterval(this.#timer);
      this.#log.warn("the sign-in lock was taken over by another process (judged stale)", { path: this.path });
    }
  }
}

// ---- process-wide bookkeeping: our leases, released when the process ends ----

/** Tokens of the locks this process holds (undefined while the lease is being created). */
const leases = new Map<string, LockLease | undefined>();
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let hooked = false;

function releaseAllSync(): void {
  for (const lease of [...leases.values()]) lease?.releaseSync();
}

/**
 * Releases on a signal. When nobody else listens for it, the default action (ending the process)
 * is restored and the signal raised again; when the application listens (the bridge stops
 * gracefully on SIGTERM), the `exit` handler releases what is still held.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  releaseAllSync();
  unhook();
  process.kill(process.pid, signal);
}

function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", releaseAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off("exit", releaseAllSync);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function unhookIfIdle(): void {
  if (leases.size === 0) unhook();
}

function holderOf(record: LockRecord): LockHolder {
  return { pid: record.pid, host: record.host, command: record.command, since: record.since };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function inspect(path: string): Promise<SeenLock | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const st = await handle.stat();
    const text = await handle.readFile("utf8");
    let record: LockRecord | undefined;
    try {
      const parsed = lockRecordSchema.safeParse(JSON.parse(text));
      record = parsed.success ? parsed.data : undefined;
    } catch {
      record = undefined; // being written, or damaged: judged by its age alone
    }
    return { record, ino: st.ino, dev: st.dev, mtimeMs: st.mtimeMs };
  } finally {
    await handle.close();
  }
}
