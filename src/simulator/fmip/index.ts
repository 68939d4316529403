export type { FindMyAction, FindMyActionKind, FindMyProbe } from "./account.ts";
export { createFindMyRoutes, findMyProbe } from "./routes.ts";
export { defaultFindMyScenario, type FindMyScenarioInput, findMyScenarioSchema } from "./scenario.ts";
