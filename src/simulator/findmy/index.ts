export type { FindMyAction, FindMyActionKind, FindMyProbe } from "./account.ts";
export { defaultFindMyScenario } from "./default-household.ts";
export { createFindMyRoutes, findMyProbe } from "./routes.ts";
export { type FindMyScenarioInput, findMyScenarioSchema } from "./scenario.ts";
