import { z } from "zod";
import { ORIGIN_NAME } from "./discovery/common.ts";
import { type Topics, topicKey } from "./topics.ts";

/** Just enough of a retained discovery payload to tell whether this bridge published it. */
const ForeignConfigSchema = z.object({
  origin: z.object({ name: z.string() }),
  device: z.object({ identifiers: z.array(z.string()).min(1) }),
});

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A regular expression for an MQTT subscription filter (`+` one level, `#` the rest). */
export function filterPattern(filter: string): RegExp {
  const parts = filter.split("/").map((level) => (level === "+" ? "[^/]+" : level === "#" ? ".*" : quote(level)));
  return new RegExp(`^${parts.join("/")}$`);
}

/**
 * Collects the retained discovery configs and service state topics found at start, and tells
 * which of them this bridge owns but no longer publishes. A config is owned when its origin is
 * icloud2mqtt, its node id starts with this base topic's id prefix and that id is among its
 * device identifiers; every retained topic under a service's owned state filters
 * (e.g. `<base>/+/devices/+`) is owned.
 */
export class StaleSweep {
  readonly #topics: Topics;
  readonly #seen = new Set<string>();
  readonly #configPattern: RegExp;
  readonly #statePatterns: RegExp[];
  readonly filters: string[];

  constructor(topics: Topics, stateFilters: readonly string[]) {
    this.#topics = topics;
    this.#configPattern = new RegExp(`^${quote(topics.prefix)}/device/([^/]+)/config$`);
    this.#statePatterns = stateFilters.map(filterPattern);
    this.filters = [topics.discoveryFilter, ...stateFilters];
  }

  #isState(topic: string): boolean {
    return this.#statePatterns.some((pattern) => pattern.test(topic));
  }

  /** True when the topic belongs to the sweep (whether or not it was recorded). */
  matches(topic: string): boolean {
    return this.#configPattern.test(topic) || this.#isState(topic);
  }

  record(topic: string, payload: Buffer): void {
    if (payload.length === 0) return;
    if (this.#isState(topic)) {
      this.#seen.add(topic);
      return;
    }
    const nodeId = this.#configPattern.exec(topic)?.[1];
    if (nodeId === undefined || !nodeId.startsWith(`${this.#topics.idPrefix}_`)) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      return;
    }
    const parsed = ForeignConfigSchema.safeParse(json);
    if (parsed.success && parsed.data.origin.name === ORIGIN_NAME && parsed.data.device.identifiers.includes(nodeId)) {
      this.#seen.add(topic);
    }
  }

  /** Owned topics seen during the sweep that are not in `current`. */
  stale(current: ReadonlySet<string>): string[] {
    return [...this.#seen].filter((topic) => !current.has(topic)).sort();
  }

  /** Drops a topic once it was deleted. */
  forget(topic: string): void {
    this.#seen.delete(topic);
  }

  /**
   * Which of `accounts` a recorded topic belongs to: `<base>/<account>/…` state topics, and the
   * account's and its devices' discovery configs; undefined for others (an account no longer configured).
   */
  accountOf(topic: string, accounts: readonly string[]): string | undefined {
    const nodeId = this.#configPattern.exec(topic)?.[1];
    let best: string | undefined;
    let bestLength = -1;
    for (const account of accounts) {
      const key = topicKey(account);
      const owned =
        nodeId === undefined
          ? topic.startsWith(`${this.#topics.base}/${key}/`)
          : nodeId === this.#topics.accountNodeId(account) ||
            nodeId.startsWith(`${this.#topics.idPrefix}_device_${key}_`);
      if (owned && key.length > bestLength) {
        best = account;
        bestLength = key.length;
      }
    }
    return best;
  }
}
