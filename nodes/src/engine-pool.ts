import { createHash } from "node:crypto";
import { chmod, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { Engine, type Logger } from "icloud2mqtt/engine";
import type { AccountPlan } from "./account-settings.ts";

type EmbeddedPlan = Extract<AccountPlan, { mode: "embedded" }>;

/** One account node's hold on a shared engine. */
export interface Lease {
  readonly engine: Engine;
  /** Set when another account node already ran this Apple ID with other settings (those stay in force). */
  readonly warning: string | null;
  /**
   * Gives the engine back. The last lease stops it after the grace period (a redeploy or a restart
   * of the flows takes it again meanwhile, with no new sign-in), or at once when `removed`.
   */
  release(options: { removed: boolean; graceMs: number }): Promise<void>;
}

interface Entry {
  readonly appleId: string;
  readonly fingerprint: string;
  readonly engine: Engine;
  readonly leases: Set<Lease>;
  timer: NodeJS.Timeout | undefined;
  stopping: Promise<void> | undefined;
}

/** Settings that make an engine different; the password only as a hash. */
function fingerprint(plan: EmbeddedPlan): string {
  return createHash("sha256")
    .update(JSON.stringify([plan.account, plan.stateDir]))
    .digest("hex");
}

/** `<userDir>/icloud2mqtt/<account>/` and its parent, 0700 even when they existed. */
async function privateFolder(dir: string): Promise<void> {
  for (const folder of [dirname(dir), dir]) {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await chmod(folder, 0o700);
  }
}

/**
 * One embedded engine per Apple ID per process. Node-RED closes and recreates config nodes on
 * every full deploy, on a modified-nodes deploy that touches them, and on "restart flows"; a new
 * engine each time would sign in again. Account nodes lease the engine instead: the last one to let
 * go leaves it running for a grace period, and the next deploy takes it back as it is.
 */
export class EnginePool {
  readonly #entries = new Map<string, Entry>();

  /** Engines running (or waiting out their grace period). */
  get size(): number {
    return this.#entries.size;
  }

  /** Takes the Apple ID's engine, starting it when none runs (or when it ran with other settings and is unused). */
  async acquire(plan: EmbeddedPlan, logger: Logger): Promise<Lease> {
    let entry = this.#entries.get(plan.appleId);
    if (entry?.stopping !== undefined) {
      await entry.stopping;
      entry = this.#entries.get(plan.appleId);
    }
    const wanted = fingerprint(plan);
    if (entry !== undefined && entry.fingerprint !== wanted && entry.leases.size === 0) {
      await this.#stop(entry);
      entry = this.#entries.get(plan.appleId);
    }
    if (entry === undefined) entry = await this.#start(plan, wanted, logger);
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const warning =
      entry.fingerprint === wanted
        ? null
        : "another iCloud account node runs this Apple ID with other settings; its settings are used";
    return this.#lease(entry, warning);
  }

  /** Stops every engine now (tests; Node-RED itself ends the process). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => this.#stop(entry)));
  }

  async #start(plan: EmbeddedPlan, wanted: string, logger: Logger): Promise<Entry> {
    await privateFolder(plan.stateDir);
    // Another acquire may have started it while the folder was made.
    const raced = this.#entries.get(plan.appleId);
    if (raced !== undefined) return raced;
    const engine = new Engine({ accounts: [plan.account], stateDir: plan.stateDir, logger });
    const entry: Entry = {
      appleId: plan.appleId,
      fingerprint: wanted,
      engine,
      leases: new Set(),
      timer: undefined,
      stopping: undefined,
    };
    this.#entries.set(plan.appleId, entry);
    try {
      await engine.start();
    } catch (error) {
      this.#entries.delete(plan.appleId);
      await engine.stop().catch(() => {});
      throw error;
    }
    return entry;
  }

  #lease(entry: Entry, warning: string | null): Lease {
    let released = false;
    const lease: Lease = {
      engine: entry.engine,
      warning,
      release: async ({ removed, graceMs }) => {
        if (released) return;
        released = true;
        entry.leases.delete(lease);
        if (entry.leases.size > 0) return;
        if (removed || graceMs <= 0) {
          await this.#stop(entry);
          return;
        }
        entry.timer = setTimeout(() => void this.#stop(entry), graceMs);
        // A lingering engine never keeps Node-RED from exiting (its state is saved as it goes).
        entry.timer.unref();
      },
    };
    entry.leases.add(lease);
    return lease;
  }

  #stop(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.stopping ??= (async () => {
      try {
        await entry.engine.stop();
      } finally {
        if (this.#entries.get(entry.appleId) === entry) this.#entries.delete(entry.appleId);
      }
    })();
    return entry.stopping;
  }
}

/** The process's pool, shared by every account node (each node file imports the same module). */
export const enginePool = new EnginePool();
