import { createCallsRoutes } from "./calls/index.ts";
import type { ServiceRoutesFactory } from "./context.ts";
import { createFindMyRoutes } from "./findmy/index.ts";
import { createPhotosRoutes } from "./photos/index.ts";

/** Every service the simulator offers besides sign-in: Find My, Photos and the invented call history. */
export const SIMULATOR_SERVICES: readonly ServiceRoutesFactory[] = [
  createFindMyRoutes,
  createPhotosRoutes,
  createCallsRoutes,
];
