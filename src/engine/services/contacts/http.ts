import type { HttpServiceView } from "../../../http/service-view.ts";
import type { ContactsSnapshot } from "./events.ts";

/** Contacts in the HTTP API and on the web page: how many there are and today's birthdays (names and ages only). */
export const contactsHttp: HttpServiceView<ContactsSnapshot> = {
  view: (snapshot) => ({ count: snapshot.count, date: snapshot.date, birthdays_today: snapshot.birthdays_today }),
  card: (snapshot) => ({
    facts: [{ label: "Contacts", value: snapshot.count, format: "number" }],
    itemsTitle: "Birthdays today",
    items: snapshot.birthdays_today.map((person) => ({
      id: person.id,
      title: person.name,
      ...(person.age === null ? {} : { subtitle: `turns ${person.age}` }),
    })),
    empty: "No birthdays today.",
  }),
  files: {},
};
