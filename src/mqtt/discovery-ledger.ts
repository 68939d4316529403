import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "../logger.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";
import { byCodeUnits } from "../util/compare.ts";
import type { Component, DeviceDiscovery } from "./discovery/types.ts";

const LedgerFileSchema = z.object({
  version: z.literal(1),
  /** Discovery node id → component key → platform, as last published. */
  nodes: z.record(z.string(), z.record(z.string(), z.string())),
});

/** A component reduced to its platform: how Home Assistant is told to remove it from a device. */
export type Tombstone = { p: string };

/**
 * What this bridge last published to Home Assistant per discovery node (component key → platform),
 * kept in the state folder (`mqtt/discovery-<id>.json`, 0600) because components usually disappear
 * across a restart with a changed configuration (home removed, a service disabled). Home Assistant
 * keeps a component that is simply left out of a device's `cmps`; it must first be re-published as
 * `{"p": "<platform>"}` (`tombstones`), then left out. Without a state folder it remembers only the
 * current run.
 */
export class DiscoveryLedger {
  readonly #path: string | undefined;
  readonly #log: Logger;
  readonly #nodes = new Map<string, Record<string, string>>();
  #saving: Promise<void> = Promise.resolve();

  private constructor(path: string | undefined, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Loads the ledger of base-topic id `id` from `stateDir` (an unreadable file is logged and starts empty). */
  static async open(stateDir: string | undefined, id: string, log: Logger): Promise<DiscoveryLedger> {
    const ledger = new DiscoveryLedger(
      stateDir === undefined ? undefined : join(stateDir, "mqtt", `discovery-${id}.json`),
      log,
    );
    if (ledger.#path === undefined) return ledger;
    try {
      const text = await readFileIfExists(ledger.#path);
      if (text === undefined) return ledger;
      const parsed = LedgerFileSchema.parse(JSON.parse(text));
      for (const [node, components] of Object.entries(parsed.nodes)) ledger.#nodes.set(node, components);
    } catch (error) {
      log.warn("the discovery ledger is unreadable; components removed while stopped may stay in Home Assistant", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return ledger;
  }

  /** Node ids published before (this run or an earlier one) and not removed since. */
  nodes(): string[] {
    return [...this.#nodes.keys()].sort();
  }

  /**
   * The components of `nodeId` published before and missing from `payload`, as tombstones (empty when
   * none); a component whose platform changed counts as removed too.
   */
  tombstones(nodeId: string, payload: DeviceDiscovery): Record<string, Tombstone> {
    const before = this.#nodes.get(nodeId) ?? {};
    const out: Record<string, Tombstone> = {};
    for (const [key, platform] of Object.entries(before)) {
      const now: Component | undefined = payload.cmps[key];
      if (now === undefined || now.p !== platform) out[key] = { p: platform };
    }
    return out;
  }

  /** Remembers what `payload` publishes for `nodeId` (saved when it changed). */
  record(nodeId: string, payload: DeviceDiscovery): void {
    const components = Object.fromEntries(Object.entries(payload.cmps).map(([key, c]) => [key, c.p]));
    const before = this.#nodes.get(nodeId);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(components)) return;
    this.#nodes.set(nodeId, components);
    this.#save();
  }

  /** Forgets a node whose discovery was removed (empty payload). */
  forget(nodeId: string): void {
    if (this.#nodes.delete(nodeId)) this.#save();
  }

  /** Resolves when every change so far is on disk. */
  flush(): Promise<void> {
    return this.#saving;
  }

  #save(): void {
    const path = this.#path;
    if (path === undefined) return;
    // Chained: each write takes the ledger as it is when its turn comes, so an older one never wins.
    this.#saving = this.#saving.then(async () => {
      const nodes = Object.fromEntries([...this.#nodes].sort(([a], [b]) => byCodeUnits(a, b)));
      try {
        await writeFileAtomic(path, `${JSON.stringify({ version: 1, nodes })}\n`);
      } catch (error) {
        this.#log.warn("saving the discovery ledger failed", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
  }
}
