/**
 * `icloud2mqtt/testing`: what front-end packages need to test against the real protocol: the iCloud
 * simulator (started from a scenario file or object), a fake engine behind the engine's API, and
 * sample data in the engine's vocabulary.
 */

export { parseScenario, type Scenario, type ScenarioInput } from "../simulator/scenario.ts";
export { type SimulatorHandle, type SimulatorOptions, startSimulator } from "../simulator/server.ts";
export { SIMULATOR_SERVICES } from "../simulator/service-modules.ts";
export { type FakeAccount, FakeEngine } from "./fake-engine.ts";
export {
  FAKE_ASSET,
  FAKE_CALL,
  FAKE_JPEG,
  FAKE_PHONES,
  type FakeStateOptions,
  fakeAccountState,
  fakeDevice,
} from "./fixtures.ts";
