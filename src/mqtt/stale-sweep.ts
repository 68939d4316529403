import { z } from "zod";
import { ORIGIN_NAME } from "./discovery/common.ts";
import type { Topics } from "./topics.ts";

/** Just enough of a retained discovery payload to tell whether this bridge published it. */
const ForeignConfigSchema = z.object({
  origin: z.object({ name: z.string() }),
  device: z.object({ identifiers: z.array(z.string()).min(1) }),
});

/**
 * Collects the retained discovery configs and device state topics found at start, and tells
 * which of them this bridge owns but no longer publishes. A config is owned when its origin is
 * icloud2mqtt, its node id starts with this base topic's id prefix and that id is among its
 * device identifiers; every retained `<base>/+/devices/+` topic is owned.
 */
export class StaleSweep {
  readonly #topics: Topics;
  readonly #seen = new Set<string>();
  readonly #configPattern: RegExp;
  readonly #devicePattern: RegExp;

  constructor(topics: Topics) {
    this.#topics = topics;
    const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    this.#configPattern = new RegExp(`^${quote(topics.prefix)}/device/([^/]+)/config$`);
    this.#devicePattern = new RegExp(`^${quote(topics.base)}/[^/]+/devices/[^/]+$`);
  }

  /** True when the topic belongs to the sweep (whether or not it was recorded). */
  matches(topic: string): boolean {
    return this.#configPattern.test(topic) || this.#devicePattern.test(topic);
  }

  record(topic: string, payload: Buffer): void {
    if (payload.length === 0) return;
    if (this.#devicePattern.test(topic)) {
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
}
