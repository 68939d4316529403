/**
 * `icloud2mqtt/testing`: what front-end packages need to test against the real protocol: the iCloud
 * simulator (started from a scenario file or object) and a fake engine behind the engine's API.
 */
export { parseScenario, type Scenario, type ScenarioInput } from "../simulator/scenario.ts";
export { type SimulatorHandle, type SimulatorOptions, startSimulator } from "../simulator/server.ts";
export { SIMULATOR_SERVICES } from "../simulator/service-modules.ts";
