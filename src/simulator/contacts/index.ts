export { AddressBook, type SimContact } from "./address-book.ts";
export { type ContactsProbe, contactsProbe, createContactsRoutes } from "./routes.ts";
export { type ContactsScenarioInput, ContactsScenarioSchema, type ScenarioContactInput } from "./scenario.ts";
