export type { CallEntry, SimCall } from "./call-log.ts";
export { type CallHistoryProbe, callHistoryProbe, createCallHistoryRoutes, type ZoneFaultCode } from "./routes.ts";
export {
  type CallsScenarioInput,
  CallsScenarioSchema,
  parseCallsScenario,
  type ScenarioCallInput,
} from "./scenario.ts";
