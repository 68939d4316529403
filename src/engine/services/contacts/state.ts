import { z } from "zod";
import { BirthdayPersonSchema } from "./birthdays.ts";

/** What the service remembers of one contact: enough for birthdays and photos, no other details. */
export const KnownContactSchema = z.object({
  /** Apple's contact id. */
  contact_id: z.string().min(1),
  name: z.string(),
  birthday: z.string().nullable(),
  /** Where the profile photo was last seen (refreshed from the address book when it no longer works). */
  photo_url: z.string().nullable(),
});
export type KnownContact = z.infer<typeof KnownContactSchema>;

/**
 * What the contacts service keeps across restarts: the web service's tokens, what it needs of each
 * contact (keyed by the published id), and the birthdays it last published.
 */
export const ContactsStateSchema = z.object({
  pref_token: z.string().nullable().default(null),
  sync_token: z.string().nullable().default(null),
  contacts: z.record(z.string(), KnownContactSchema).default({}),
  count: z.number().int().nonnegative().nullable().default(null),
  birthdays_date: z.string().nullable().default(null),
  birthdays_today: z.array(BirthdayPersonSchema).default([]),
});
export type ContactsState = z.output<typeof ContactsStateSchema>;
