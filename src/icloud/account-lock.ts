import { randomUUID } from "node:crypto";
import { readFileSync, readlinkSync, unlinkSync } from "node:fs";
import { type FileHandle, mkdir, open, rm, stat, utimes } from "node:fs/promises";
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
 * Stale recovery is serialised by a second O_EXCL file (`<lock>.recover`, held for a moment):
 * its owner checks again that the lock is the very file judged stale (token, inode, mtime) and
 * still stale, and only then removes it; everyone then competes with O_EXCL again. A recovery
 * guard left by a process that died in that instant is removed after GUARD_STALE_MS.
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
const GUARD_STALE_MS = 10_000;
const ATTEMPTS = 10;
/** An empty lock younger than this is being written (O_EXCL creates it empty). */
const FRESH_MS = 1_000;

const lockRecordSchema = z
  .object({
    version: z.literal(1),
    token: z.string().min(1),
    pid: z.number().int(),
    host: z.string(),
    /** Linux: the holder's pid namespace; pids are only comparable inside one (containers sharing a host name). */
    pid_ns: z.string().optional(),
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

/** This process's pid namespace (Linux), e.g. `pid:[4026531836]`; undefined elsewhere. */
const PID_NS = ((): string | undefined => {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return undefined;
  }
})();

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
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const lease = await this.#create();
      if (lease !== undefined) return { ok: true, lease };
      const seen = await inspect(this.path);
      if (seen === undefined) continue; // released meanwhile
      holder = seen.record === undefined ? null : holderOf(seen.record);
      if (seen.record === undefined && Date.now() - seen.mtimeMs < FRESH_MS && attempt < ATTEMPTS - 1) {
        await sleep(10); // created a moment ago, its content not written yet: read it again
        continue;
      }
      const reason = this.#staleReason(seen);
      if (reason === undefined) return { ok: false, holder };
      if (!(await this.#recover(seen, reason))) await sleep(10 + attempt * 10); // another process is recovering it
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
      ...(PID_NS === undefined ? {} : { pid_ns: PID_NS }),
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
      const lease = new LockLease(this.path, record, this.#heartbeatMs, this.#log);
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
    // Pids say something only on this host and in this pid namespace (two containers with host
    // networking share a host name, not their pids).
    if (record !== undefined && record.host === hostname() && record.pid_ns === PID_NS) {
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

  /** Removes the stale lock under the recovery guard; false when another process holds the guard. */
  async #recover(seen: SeenLock, reason: string): Promise<boolean> {
    const guard = `${this.path}.recover`;
    try {
      await (await open(guard, "wx", 0o600)).close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const st = await stat(guard).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs > GUARD_STALE_MS) await rm(guard, { force: true });
      return false;
    }
    try {
      const again = await inspect(this.path);
      const same =
        again !== undefined &&
        again.ino === seen.ino &&
        again.dev === seen.dev &&
        again.mtimeMs === seen.mtimeMs &&
        again.record?.token === seen.record?.token;
      if (same && this.#staleReason(again) !== undefined) {
        const holder = seen.record === undefined ? null : holderOf(seen.record);
        this.#log.warn("recovered a stale sign-in lock", { reason, holder });
        await rm(this.path, { force: true });
      }
      return true;
    } finally {
      await rm(guard, { force: true });
    }
  }
}

/** A held lock: touched every heartbeat until released. */
export class LockLease {
  readonly path: string;
  readonly holder: LockHolder;
  readonly token: string;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #lost = false;
  #released = false;

  constructor(path: string, record: LockRecord, heartbeatMs: number, log: Logger) {
    this.path = path;
    this.holder = holderOf(record);
    this.token = record.token;
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
    const seen = await inspect(this.path);
    if (seen?.record?.token === this.token) await rm(this.path, { force: true });
  }

  /** For the process `exit` handler: nothing asynchronous runs there. */
  releaseSync(): void {
    if (this.#released) return;
    this.#finish();
    if (this.#lost) return;
    try {
      if (tokenOf(readFileSync(this.path, "utf8")) === this.token) unlinkSync(this.path);
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
      const seen = await inspect(this.path);
      if (this.#released) return;
      if (seen?.record?.token === this.token) {
        const now = new Date();
        await utimes(this.path, now, now);
        return;
      }
    } catch {
      return; // unreadable for a moment: try again at the next beat
    }
    this.#lost = true;
    clearInterval(this.#timer);
    this.#log.warn("the sign-in lock was taken over by another process (judged stale)", { path: this.path });
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

/** The lock's record; undefined while it is being written, or when damaged (judged by its age alone). */
function parseRecord(text: string): LockRecord | undefined {
  try {
    const parsed = lockRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function tokenOf(text: string): string | undefined {
  return parseRecord(text)?.token;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
    return { record: parseRecord(text), ino: st.ino, dev: st.dev, mtimeMs: st.mtimeMs };
  } finally {
    await handle.close();
  }
}
