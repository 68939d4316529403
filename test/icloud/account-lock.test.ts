import { readlinkSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AccountLock } from "../../src/icloud/account-lock.ts";
import { killAll, type NodeChild, spawnNode } from "../support/processes.ts";

const CHILD = "test/support/lock-child.ts";
const PID_NS = readlinkSync("/proc/self/ns/pid");
const dirs: string[] = [];

afterEach(async () => {
  await killAll();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function lockPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "icloud-lock-"));
  dirs.push(dir);
  return join(dir, "sessions", "0123abcd.lock");
}

function lockChild(path: string, mode: string, env: Record<string, string> = {}): NodeChild {
  return spawnNode([CHILD], { LOCK_PATH: path, LOCK_MODE: mode, ...env });
}

async function record(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe("account sign-in lock", () => {
  it("names its holder; a holder killed with SIGKILL is recovered at once", async () => {
    const path = await lockPath();
    const holder = lockChild(path, "hold");
    await holder.waitFor(/"locked"/, "the child's lock");
    const lock = new AccountLock(path);

    const busy = await lock.tryAcquire();
    expect(busy).toEqual({
      ok: false,
      holder: { pid: holder.pid, host: hostname(), command: "lock-child hold", since: expect.any(String) },
    });
    expect(Date.parse(busy.ok ? "" : (busy.holder?.since ?? ""))).toBeGreaterThan(Date.now() - 60_000);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    holder.kill("SIGKILL");
    expect(await holder.exited).toBe("SIGKILL");
    expect(await exists(path)).toBe(true); // a killed process cleans nothing up

    const taken = await lock.tryAcquire();
    expect(taken.ok).toBe(true);
    expect(await record(path)).toMatchObject({ pid: process.pid, host: hostname() });
    if (taken.ok) await taken.lease.release();
    expect(await readdir(join(path, ".."))).toEqual([]);
  });

  it("of four processes racing for a free lock exactly one wins; the others name it", async () => {
    const path = await lockPath();
    const at = String(Date.now() + 1500);
    const racers = [0, 1, 2, 3].map(() => lockChild(path, "race", { LOCK_AT: at }));
    await Promise.all(racers.map((r) => r.waitFor(/"result"/, "a race result", 30_000)));
    const results = racers.map((r) => r.events().find((e) => e["event"] === "result") ?? {});
    const winners = results.filter((r) => r["ok"] === true);
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.["pid"];
    for (const loser of results.filter((r) => r["ok"] === false)) {
      expect(loser["holder"]).toMatchObject({ pid: winner, command: "lock-child race" });
    }
    expect(await record(path)).toMatchObject({ pid: winner });
  });

  it("of four processes racing to recover a stale lock exactly one wins", async () => {
    const path = await lockPath();
    const dead = lockChild(path, "hold");
    await dead.waitFor(/"locked"/, "the child's lock");
    dead.kill("SIGKILL");
    await dead.exited;
    const at = String(Date.now() + 1500);
    const racers = [0, 1, 2, 3].map(() => lockChild(path, "race", { LOCK_AT: at }));
    await Promise.all(racers.map((r) => r.waitFor(/"result"/, "a race result", 30_000)));
    const results = racers.map((r) => r.events().find((e) => e["event"] === "result") ?? {});
    const winners = results.filter((r) => r["ok"] === true);
    expect(winners).toHaveLength(1);
    expect(await record(path)).toMatchObject({ pid: winners[0]?.["pid"] });
    expect((await readdir(join(path, ".."))).sort()).toEqual(["0123abcd.lock"]);
  });

  it("processes waiting for each other hold the lock one after the other", async () => {
    const path = await lockPath();
    const queue = [0, 1, 2].map(() => lockChild(path, "queue", { LOCK_HOLD_MS: "300" }));
    const codes = await Promise.all(queue.map((q) => q.exited));
    expect(codes).toEqual([0, 0, 0]);
    const spans = queue
      .map((q) => {
        const events = q.events();
        const start = events.find((e) => e["event"] === "start")?.["at"] as number;
        const end = events.find((e) => e["event"] === "end")?.["at"] as number;
        return { start, end };
      })
      .sort((a, b) => a.start - b.start);
    for (const [i, span] of spans.entries()) {
      expect(span.end - span.start).toBeGreaterThanOrEqual(290);
      const next = spans[i + 1];
      if (next) expect(next.start).toBeGreaterThanOrEqual(span.end);
    }
    expect(await exists(path)).toBe(false);
  });

  it("is released when its process ends on SIGTERM, on an uncaught exception, or through its own SIGTERM handler", async () => {
    for (const [mode, expected] of [
      ["hold", "SIGTERM"],
      ["throw", 1],
      ["graceful", 0],
    ] as const) {
      const path = await lockPath();
      const child = lockChild(path, mode);
      await child.waitFor(/"locked"/, `the ${mode} child's lock`);
      expect(await exists(path)).toBe(true);
      // The thrower waits for SIGUSR2, so the lock is checked before it dies however slow the machine is.
      child.kill(mode === "throw" ? "SIGUSR2" : "SIGTERM");
      expect(await child.exited).toBe(expected);
      expect(await exists(path)).toBe(false);
    }
  });

  it("a lock from another host is busy while it is touched, stale once it is not", async () => {
    const path = await lockPath();
    const lock = new AccountLock(path, { staleMs: 60_000 });
    const first = await lock.tryAcquire();
    if (!first.ok) throw new Error("expected the lock");
    await first.lease.release();
    const other = { version: 1, token: "t-1", pid: 4242, host: "elsewhere.invalid", command: "icloud2mqtt run" };
    const since = new Date().toISOString();
    await writeFile(path, JSON.stringify({ ...other, since }), { mode: 0o600 });
    expect(await lock.tryAcquire()).toEqual({
      ok: false,
      holder: { pid: 4242, host: "elsewhere.invalid", command: "icloud2mqtt run", since },
    });
    const old = new Date(Date.now() - 61_000);
    await utimes(path, old, old);
    const taken = await lock.tryAcquire();
    expect(taken.ok).toBe(true);
    expect(await record(path)).toMatchObject({ pid: process.pid });
  });

  it("a lock with this process's pid that none of its leases holds is stale (a restarted container)", async () => {
    const path = await lockPath();
    const lock = new AccountLock(path);
    const held = await lock.tryAcquire();
    if (!held.ok) throw new Error("expected the lock");
    // A second lease in the same process is refused while the first one is held...
    expect(await lock.tryAcquire()).toMatchObject({ ok: false, holder: { pid: process.pid } });
    await held.lease.release();
    // ...but a file left by an earlier process that had this pid is not a holder.
    const leftover = { version: 1, token: "earlier", pid: process.pid, host: hostname(), pid_ns: PID_NS, command: "x" };
    await writeFile(path, JSON.stringify({ ...leftover, since: new Date().toISOString() }), { mode: 0o600 });
    const taken = await lock.tryAcquire();
    expect(taken.ok).toBe(true);
    if (taken.ok) await taken.lease.release();
  });

  it("a dead pid in another pid namespace (a container sharing the host name) proves nothing", async () => {
    const path = await lockPath();
    const lock = new AccountLock(path, { staleMs: 60_000 });
    const dead = lockChild(path, "hold");
    await dead.waitFor(/"locked"/, "the child's lock");
    dead.kill("SIGKILL");
    await dead.exited;
    const left = await record(path);
    await writeFile(path, JSON.stringify({ ...left, pid_ns: "pid:[1]" }), { mode: 0o600 });
    expect(await lock.tryAcquire()).toMatchObject({ ok: false, holder: { pid: dead.pid } });
    const old = new Date(Date.now() - 61_000);
    await utimes(path, old, old);
    expect((await lock.tryAcquire()).ok).toBe(true);
  });

  it("an unreadable lock is busy (holder unknown) until the stale bound", async () => {
    const path = await lockPath();
    const lock = new AccountLock(path, { staleMs: 60_000 });
    await lock.tryAcquire().then((r) => (r.ok ? r.lease.release() : undefined));
    await writeFile(path, "", { mode: 0o600 });
    expect(await lock.tryAcquire()).toEqual({ ok: false, holder: null });
    const old = new Date(Date.now() - 61_000);
    await utimes(path, old, old);
    expect((await lock.tryAcquire()).ok).toBe(true);
  });

  it("the holder's heartbeat keeps the lock fresh; a holder whose lock was taken over knows it", async () => {
    const path = await lockPath();
    const lock = new AccountLock(path, { heartbeatMs: 50 });
    const held = await lock.tryAcquire();
    if (!held.ok) throw new Error("expected the lock");
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await stat(path)).mtimeMs).toBeGreaterThan(Date.now() - 5_000);
    expect(held.lease.lost).toBe(false);

    await rm(path);
    await writeFile(path, JSON.stringify({ taken: "over" }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(held.lease.lost).toBe(true);
    await held.lease.release();
    expect(await readFile(path, "utf8")).toBe(JSON.stringify({ taken: "over" }));
  });
});
