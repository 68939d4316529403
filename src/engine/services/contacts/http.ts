import type { HttpServiceView } from "../../../http/service-view.ts";
import type { ContactsSnapshot } from "./events.ts";

/** Contacts in the HTTP API and on the web page: how many there are and today's birthdays. */
export const contactsHttp: HttpServiceView<ContactsSnapshot> = {
  view: (snapshot) => ({ count: snapshot.count, date: snapshot.date, birthdays_today: snapshot.birthdays_today }),
  files: {},
};
