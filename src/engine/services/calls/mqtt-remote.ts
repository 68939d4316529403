import { z } from "zod";
import { type CallkitCall, CallkitCallSchema } from "../../../icloud/calls/types.ts";
import { parseJsonPayload } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { callsCommands } from "./commands.ts";
import type { CallsEvents, CallsSnapshot } from "./events.ts";

/** What a remote engine knows of an account's calls: the newest one, with the JSON it was compared by. */
export interface CallsRemoteState {
  last: { call: CallkitCall; json: string } | null;
  recent: CallkitCall[];
}

type Results = {
  [K in keyof typeof callsCommands]: z.ZodType<Awaited<ReturnType<(typeof callsCommands)[K]["run"]>>>;
};

/** The results of the calls commands, parsed when a remote engine reads them back. */
const results: Results = { list_calls: z.object({ calls: z.array(CallkitCallSchema) }) };

const EventSchema = z.object({ event_type: z.enum(["incoming", "outgoing", "missed"]) }).loose();

const topic = (ctx: MqttViewContext, account: string, leaf: string) => ctx.topics.account(account, "calls", leaf);

const RecentSchema = z.array(CallkitCallSchema);

/**
 * Calls read back from MQTT: a changed `calls/last` is `call.last`, each live `calls/event` a `call.new`;
 * `calls/recent` is the recent list (no event of its own).
 */
export const callsRemote: MqttRemoteView<CallsSnapshot, CallsEvents, CallsRemoteState> = {
  filters: (ctx, account) => [topic(ctx, account, "last"), topic(ctx, account, "recent"), topic(ctx, account, "event")],
  initial: () => ({ last: null, recent: [] }),
  snapshot: (state) => ({ last: state.last?.call ?? null, recent: [...state.recent] }),
  receive: (ctx, account, state, { topic: received, payload, retained }) => {
    if (received === topic(ctx, account, "recent")) {
      if (payload.length === 0) {
        state.recent = [];
        return { kind: "update", events: [] };
      }
      const parsed = parseJsonPayload(payload, RecentSchema);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      state.recent = parsed.data;
      return { kind: "update", events: [] };
    }
    if (received === topic(ctx, account, "last")) {
      if (payload.length === 0) {
        state.last = null;
        return { kind: "update", events: [] };
      }
      const parsed = parseJsonPayload(payload, CallkitCallSchema);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      const call = parsed.data;
      const json = JSON.stringify(call);
      if (state.last?.json === json) return { kind: "update", events: [] };
      const changed = state.last?.call.id !== call.id;
      state.last = { call, json };
      return { kind: "update", events: changed ? [{ event: "call.last", payload: { account, call } }] : [] };
    }
    if (received === topic(ctx, account, "event")) {
      // Events are never retained by the bridge; a retained one is someone else's leftover.
      if (retained || payload.length === 0) return { kind: "update", events: [] };
      const head = parseJsonPayload(payload, EventSchema);
      if (!head.ok) return { kind: "invalid", reason: head.reason };
      const { event_type: _type, ...rest } = head.data;
      const parsed = CallkitCallSchema.safeParse(rest);
      if (!parsed.success) return { kind: "invalid", reason: "not a callkit.call" };
      return { kind: "update", events: [{ event: "call.new", payload: { account, call: parsed.data } }] };
    }
    return { kind: "ignored" };
  },
  results,
};
