export type { CallEntry, SimCall } from "./call-log.ts";
export { type CallsProbe, callsProbe, createCallsRoutes, type ZoneFaultCode } from "./routes.ts";
export {
  type CallsScenarioInput,
  CallsScenarioSchema,
  parseCallsScenario,
  type ScenarioCallInput,
} from "./scenario.ts";
