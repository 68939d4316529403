/**
 * A separate process taking an account's sign-in lock, for the lock tests (run with
 * `node test/support/lock-child.ts`). Prints one JSON line per event on stdout.
 *
 * LOCK_PATH: the lock file. LOCK_MODE:
 * - `hold`: takes the lock (retrying every 10 ms) and keeps it until killed;
 * - `race`: one attempt at the epoch ms LOCK_AT; the winner keeps the lock until killed;
 * - `queue`: takes the lock (retrying), holds it LOCK_HOLD_MS, releases it and exits;
 * - `throw`: takes the lock, then dies of an uncaught exception when it receives SIGUSR2;
 * - `graceful`: takes the lock; its own SIGTERM handler exits after 50 ms.
 */
import { AccountLock, setLockCommand } from "../../src/icloud/account-lock.ts";

const path = process.env["LOCK_PATH"] ?? "";
const mode = process.env["LOCK_MODE"] ?? "hold";
setLockCommand(`lock-child ${mode}`);
const lock = new AccountLock(path, {
  heartbeatMs: Number(process.env["LOCK_HEARTBEAT_MS"] ?? 15_000),
  staleMs: Number(process.env["LOCK_STALE_MS"] ?? 120_000),
});

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ pid: process.pid, at: Date.now(), ...event })}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function take() {
  for (;;) {
    const result = await lock.tryAcquire();
    if (result.ok) return result.lease;
    await sleep(10);
  }
}

const keepAlive = () => setInterval(() => undefined, 60_000);

switch (mode) {
  case "hold": {
    await take();
    emit({ event: "locked" });
    keepAlive();
    break;
  }
  case "race": {
    await sleep(Math.max(0, Number(process.env["LOCK_AT"]) - Date.now()));
    const result = await lock.tryAcquire();
    emit({ event: "result", ok: result.ok, holder: result.ok ? null : result.holder });
    if (result.ok) keepAlive();
    break;
  }
  case "queue": {
    const lease = await take();
    emit({ event: "start" });
    await sleep(Number(process.env["LOCK_HOLD_MS"] ?? 200));
    emit({ event: "end" });
    await lease.release();
    break;
  }
  case "throw": {
    await take();
    process.on("SIGUSR2", () => {
      throw new Error("uncaught on purpose");
    });
    emit({ event: "locked" });
    keepAlive();
    break;
  }
  case "graceful": {
    await take();
    process.on("SIGTERM", () => setTimeout(() => process.exit(0), 50));
    emit({ event: "locked" });
    keepAlive();
    break;
  }
  default:
    throw new Error(`unknown LOCK_MODE ${mode}`);
}
