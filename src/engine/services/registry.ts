import { calendar } from "./calendar/index.ts";
import { calls } from "./calls/index.ts";
import { contacts } from "./contacts/index.ts";
import { findmy } from "./findmy/index.ts";
import { notes } from "./notes/index.ts";
import { photos } from "./photos/index.ts";
import { safari } from "./safari/index.ts";

/**
 * Every data type the engine offers, in display order. The engine, the account configuration, the
 * MQTT front-end and the HTTP server iterate this list; adding a data type is a new folder beside
 * these plus one entry here.
 */
export const SERVICES = [findmy, photos, calls, contacts, calendar, notes, safari] as const;
