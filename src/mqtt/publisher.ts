import type { MqttClient } from "mqtt";
import type { Logger } from "../logger.ts";
import type { OutMessage } from "./messages.ts";

function samePayload(a: string | Buffer, b: string | Buffer): boolean {
  if (typeof a === "string" && typeof b === "string") return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Publishes with QoS 1. Retained messages go out only when their payload differs from the last
 * one sent on that topic (unless forced); events always go out. Also tracks which retained topics
 * this run owns, for the stale sweep.
 */
export class Publisher {
  readonly #log: Logger;
  readonly #last = new Map<string, string | Buffer>();
  /** Retained topics (discovery and state) this run currently publishes. */
  readonly owned = new Set<string>();
  client: MqttClient | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  send(message: OutMessage, force = false): void {
    if (message.retain) {
      this.owned.add(message.topic);
      const last = this.#last.get(message.topic);
      if (!force && last !== undefined && samePayload(last, message.payload)) return;
      this.#last.set(message.topic, message.payload);
    }
    this.publish(message.topic, message.payload, message.retain);
  }

  /** Deletes a retained message (empty retained payload) and forgets the topic. */
  clear(topic: string): void {
    this.#last.delete(topic);
    this.owned.delete(topic);
    this.publish(topic, "", true);
  }

  publish(topic: string, payload: string | Buffer, retain: boolean): void {
    const client = this.client;
    if (client === undefined) return;
    client.publishAsync(topic, payload, { qos: 1, retain }).catch((error: unknown) => {
      this.#log.warn("publish failed", { topic, error: error instanceof Error ? error.message : String(error) });
    });
  }
}
