import { z } from "zod";
import { EVENT_KINDS, type EventKind, eventKind, eventMessage } from "../event-messages.ts";
import type { NodeRedApi, RedNode } from "../red.ts";
import { useAccount } from "./consumer.ts";

const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"])])
    .optional()
    .transform((value) => (value === undefined ? fallback : value === true || value === "true"));

const EventsNodeSchema = z.object({
  account: z.string().optional(),
  calls: flag(true),
  photos: flag(true),
  syncFailed: flag(true),
  codeNeeded: flag(true),
  accountState: flag(false),
  other: flag(false),
});

/**
 * `icloud-events`: what happens on an account, as messages: new calls, new photos (with their
 * thumbnail), failed syncs, "code needed", account state changes, and (opt-in) every other engine
 * event, including those of data types added to the engine later.
 */
export function register(RED: NodeRedApi): void {
  function IcloudEventsNode(this: RedNode, definition: Record<string, unknown>): void {
    RED.nodes.createNode(this, definition);
    const parsed = EventsNodeSchema.safeParse(definition);
    if (!parsed.success) {
      this.status({ fill: "red", shape: "ring", text: "invalid settings" });
      return;
    }
    const wanted = new Set<EventKind>(EVENT_KINDS.filter((kind) => parsed.data[kind]));
    const handle = useAccount(RED, this, parsed.data.account);
    if (handle === null) return;
    handle.bus.onAny(this, (...event) => {
      const kind = eventKind(event[0]);
      if (kind !== null && wanted.has(kind)) this.send(eventMessage(event));
    });
  }
  RED.nodes.registerType("icloud-events", IcloudEventsNode);
}
