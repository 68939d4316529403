import type { BirthdayPerson } from "./birthdays.ts";

/** What the contacts service tells front-ends. */
export type ContactsEvents = {
  /** Today's birthdays changed (a new day, or the address book changed). */
  "contacts.birthdays": [{ account: string; date: string; contacts: BirthdayPerson[] }];
  /** The number of contacts changed. */
  "contacts.count": [{ account: string; count: number }];
};

export interface ContactsSnapshot {
  count: number | null;
  /** The date `birthdays_today` is for (`YYYY-MM-DD`, the bridge's time zone); null before the first sync. */
  date: string | null;
  birthdays_today: BirthdayPerson[];
}
