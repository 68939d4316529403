import { z } from "zod";
import { type MmeNote, MmeNoteSchema } from "../../../icloud/notes/types.ts";
import { parseJsonPayload } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext } from "../../../mqtt/service-view.ts";
import type { notesCommands } from "./commands.ts";
import type { NotesEvents, NotesSnapshot } from "./events.ts";

export const NOTE_EVENT_TYPES = ["created", "updated", "deleted"] as const;

/** What a remote engine knows of an account's notes (the count; events are passed on as they come). */
export interface NotesRemoteState {
  count: number | null;
  recent: MmeNote[];
}

type Results = {
  [K in keyof typeof notesCommands]: z.ZodType<Awaited<ReturnType<(typeof notesCommands)[K]["run"]>>>;
};
const results: Results = {
  list_notes: z.object({ notes: z.array(MmeNoteSchema) }),
  note_attachment: z.object({
    id: z.string(),
    content_type: z.string(),
    extension: z.string(),
    size: z.number().int().nonnegative(),
    data: z.string(),
  }),
};

const EventSchema = z.object({ event_type: z.enum(NOTE_EVENT_TYPES) }).loose();
const CountSchema = z.string().regex(/^\d+$/, "not a whole number").transform(Number);
const topic = (ctx: MqttViewContext, account: string, leaf: string) => ctx.topics.account(account, "notes", leaf);

/** Notes read back from MQTT: a changed `notes/count` is `notes.count`, each live `notes/event` a `note.changed`. */
export const notesRemote: MqttRemoteView<NotesSnapshot, NotesEvents, NotesRemoteState> = {
  filters: (ctx, account) => [topic(ctx, account, "count"), topic(ctx, account, "event")],
  initial: () => ({ count: null, recent: [] }),
  snapshot: (state) => ({ count: state.count, recent: [...state.recent] }),
  receive: (ctx, account, state, { topic: received, payload, retained }) => {
    if (received === topic(ctx, account, "count")) {
      if (payload.length === 0) {
        state.count = null;
        return { kind: "update", events: [] };
      }
      const parsed = CountSchema.safeParse(payload.toString("utf8").trim());
      if (!parsed.success) return { kind: "invalid", reason: "not a whole number" };
      if (parsed.data === state.count) return { kind: "update", events: [] };
      state.count = parsed.data;
      return { kind: "update", events: [{ event: "notes.count", payload: { account, count: parsed.data } }] };
    }
    if (received === topic(ctx, account, "event")) {
      // Events are never retained by the bridge; a retained one is someone else's leftover.
      if (retained || payload.length === 0) return { kind: "update", events: [] };
      const head = parseJsonPayload(payload, EventSchema);
      if (!head.ok) return { kind: "invalid", reason: head.reason };
      const { event_type: change, ...rest } = head.data;
      const parsed = MmeNoteSchema.safeParse(rest);
      if (!parsed.success) return { kind: "invalid", reason: "not a mme_notes.note" };
      const note = parsed.data;
      state.recent = [note, ...state.recent.filter((n) => n.id !== note.id)].slice(0, 10);
      if (change === "deleted") state.recent = state.recent.filter((n) => n.id !== note.id);
      return { kind: "update", events: [{ event: "note.changed", payload: { account, change, note } }] };
    }
    return { kind: "ignored" };
  },
  results,
};
