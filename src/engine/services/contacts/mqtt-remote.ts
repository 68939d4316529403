import { z } from "zod";
import { MmeContactSchema } from "../../../icloud/contacts/types.ts";
import { parseJsonPayload } from "../../../mqtt/remote-payload.ts";
import type { MqttRemoteView, MqttViewContext } from "../../../mqtt/service-view.ts";
import { BirthdayPersonSchema } from "./birthdays.ts";
import type { contactsCommands } from "./commands.ts";
import type { ContactsEvents, ContactsSnapshot } from "./events.ts";

/** The retained `contacts/birthdays_today` payload. */
export const BirthdaysTodaySchema = z.object({
  date: z.string(),
  count: z.number().int().nonnegative(),
  names: z.array(z.string()),
  contacts: z.array(BirthdayPersonSchema),
});

/** What a remote engine knows of an account's contacts. */
export interface ContactsRemoteState {
  count: number | null;
  birthdays: { date: string; contacts: ContactsSnapshot["birthdays_today"]; json: string } | null;
}

type Results = {
  [K in keyof typeof contactsCommands]: z.ZodType<Awaited<ReturnType<(typeof contactsCommands)[K]["run"]>>>;
};

export const FetchedFileSchema = z.object({
  id: z.string(),
  content_type: z.string(),
  extension: z.string(),
  size: z.number().int().nonnegative(),
  data: z.string(),
});

const results: Results = {
  list_contacts: z.object({ contacts: z.array(MmeContactSchema) }),
  contact_image: FetchedFileSchema,
};

const CountSchema = z.string().regex(/^\d+$/, "not a whole number").transform(Number);
const topic = (ctx: MqttViewContext, account: string, leaf: string) => ctx.topics.account(account, "contacts", leaf);

/** Contacts read back from MQTT: a changed `contacts/birthdays_today` or `contacts/count` is its event. */
export const contactsRemote: MqttRemoteView<ContactsSnapshot, ContactsEvents, ContactsRemoteState> = {
  filters: (ctx, account) => [topic(ctx, account, "birthdays_today"), topic(ctx, account, "count")],
  initial: () => ({ count: null, birthdays: null }),
  snapshot: (state) => ({
    count: state.count,
    date: state.birthdays?.date ?? null,
    birthdays_today: state.birthdays === null ? [] : [...state.birthdays.contacts],
  }),
  receive: (ctx, account, state, { topic: received, payload }) => {
    if (received === topic(ctx, account, "birthdays_today")) {
      if (payload.length === 0) {
        state.birthdays = null;
        return { kind: "update", events: [] };
      }
      const parsed = parseJsonPayload(payload, BirthdaysTodaySchema);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      const json = JSON.stringify(parsed.data);
      if (state.birthdays?.json === json) return { kind: "update", events: [] };
      const { date, contacts } = parsed.data;
      state.birthdays = { date, contacts, json };
      return { kind: "update", events: [{ event: "contacts.birthdays", payload: { account, date, contacts } }] };
    }
    if (received === topic(ctx, account, "count")) {
      if (payload.length === 0) {
        state.count = null;
        return { kind: "update", events: [] };
      }
      const parsed = CountSchema.safeParse(payload.toString("utf8").trim());
      if (!parsed.success) return { kind: "invalid", reason: "not a whole number" };
      if (parsed.data === state.count) return { kind: "update", events: [] };
      state.count = parsed.data;
      return { kind: "update", events: [{ event: "contacts.count", payload: { account, count: parsed.data } }] };
    }
    return { kind: "ignored" };
  },
  results,
};
