import { createCalendarRoutes } from "./calendar/index.ts";
import { createCallsRoutes } from "./calls/index.ts";
import { createContactsRoutes } from "./contacts/index.ts";
import type { ServiceRoutesFactory } from "./context.ts";
import { createFindMyRoutes } from "./findmy/index.ts";
import { createNotesRoutes } from "./notes/index.ts";
import { createPhotosRoutes } from "./photos/index.ts";

/**
 * Every service the simulator offers besides sign-in: Find My, Photos, the invented call history,
 * Contacts, Calendar and Notes.
 */
export const SIMULATOR_SERVICES: readonly ServiceRoutesFactory[] = [
  createFindMyRoutes,
  createPhotosRoutes,
  createCallsRoutes,
  createContactsRoutes,
  createCalendarRoutes,
  createNotesRoutes,
];
