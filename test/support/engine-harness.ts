/**
 * The engine and bridge tests' setup on the harness (harness.ts): one simulated account, a
 * temporary state folder, the validated configuration, the engine or the whole bridge, all stopped
 * at cleanup (`afterEach(cleanUp)` or `afterAll(cleanUp)` in the test file).
 */
import { type RunningBridge, startBridge } from "../../src/bridge.ts";
import { resolveConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { Engine, type EngineOptions } from "../../src/engine/engine.ts";
import { type Logger, silentLogger } from "../../src/logger.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { onCleanup, startTestSimulator, type TestAccount, tempDir, until } from "./harness.ts";
import { type HaClient, json } from "./mqtt.ts";

/** The MQTT settings of most tests: the embedded broker on a free port. */
export const EMBEDDED_BROKER = { url: null, embedded_broker: { port: 0 } };

export interface TestConfigOptions {
  sim: SimulatorHandle;
  dir: string;
  account: TestAccount;
  /** The account's id in the configuration. */
  id: string;
  /** More of the account's settings (services, timeouts, overrides of the above). */
  settings?: Record<string, unknown>;
  /** Default: the embedded broker on a free port; null leaves MQTT to the configuration's defaults. */
  mqtt?: Record<string, unknown> | null;
  /** Default: no HTTP server. */
  http?: Record<string, unknown>;
}

/** The validated configuration of one account signing in to the simulator. */
export async function testConfig(options: TestConfigOptions): Promise<Config> {
  const { sim, dir, account, id, settings = {}, mqtt = EMBEDDED_BROKER, http = { enabled: false } } = options;
  const { config } = await resolveConfig({
    state_dir: dir,
    accounts: [{ id, username: account.appleId, password: account.password, endpoint: sim.url, ...settings }],
    ...(mqtt === null ? {} : { mqtt }),
    http,
  });
  return config;
}

export interface EngineHarnessOptions extends Omit<TestConfigOptions, "sim" | "dir" | "settings"> {
  /** The account's settings (see `testConfig`), or a function of the state folder that gives them. */
  settings?: Record<string, unknown> | ((dir: string) => Record<string, unknown>);
  /** The simulated account's services and the like (see `startTestSimulator`). */
  spec?: Record<string, unknown>;
  faults?: FaultSpec[];
  /** Prefix of the temporary state folder. */
  dirPrefix: string;
  retryDelayMs?: number;
  /** More engine options (limits, HTTP back-off). */
  engine?: Pick<EngineOptions, "limits" | "http" | "logger">;
}

export interface EngineHarness {
  sim: SimulatorHandle;
  dir: string;
  engine: Engine;
}

/** Simulator, state folder and the validated configuration, all removed at cleanup. */
async function simulatedAccount(
  options: Omit<EngineHarnessOptions, "retryDelayMs" | "engine">,
): Promise<{ sim: SimulatorHandle; dir: string; config: Config }> {
  const { spec, faults, dirPrefix, settings, ...configOptions } = options;
  const sim = await startTestSimulator(options.account, spec, faults);
  const dir = await tempDir(dirPrefix);
  const config = await testConfig({
    ...configOptions,
    sim,
    dir,
    ...(settings === undefined ? {} : { settings: typeof settings === "function" ? settings(dir) : settings }),
  });
  return { sim, dir, config };
}

/** Simulator, state folder, configuration and an engine not started yet; all stopped at cleanup. */
export async function engineHarness(options: EngineHarnessOptions): Promise<EngineHarness> {
  const { retryDelayMs, engine: engineOptions, ...accountOptions } = options;
  const { sim, dir, config } = await simulatedAccount(accountOptions);
  const engine = new Engine({
    accounts: config.accounts,
    stateDir: config.state_dir,
    ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
    ...engineOptions,
  });
  onCleanup(() => engine.stop());
  return { sim, dir, engine };
}

/** Simulator, state folder, configuration and the whole bridge, started (see `startTestBridge`); all stopped at cleanup. */
export async function bridgeHarness(
  options: Omit<EngineHarnessOptions, "retryDelayMs" | "engine">,
): Promise<{ sim: SimulatorHandle; dir: string; bridge: RunningBridge }> {
  const { sim, dir, config } = await simulatedAccount(options);
  const bridge = await startTestBridge(config);
  onCleanup(() => bridge.stop());
  return { sim, dir, bridge };
}

/** A Find My device of the simulator that neither drains nor moves. */
export function steadyDevice(
  name: string,
  model: string,
  kind: string,
  battery: number,
  location: { latitude: number; longitude: number; age: string },
) {
  return {
    name,
    device_display_name: model,
    raw_device_model: model,
    device_class: kind,
    model_display_name: kind,
    battery_level: battery,
    battery_drain_per_hour: 0,
    location,
  };
}

/** Waits for the account to be blocked on the code, then sends it. */
export async function enterCode(engine: Engine, id: string, code: string): Promise<void> {
  await until(() => engine.snapshot(id).state.state === "blocked", "blocked");
  await engine.execute("mfa", { code });
}

/** Starts the whole bridge with the tests' quick MQTT timings. */
export function startTestBridge(config: Config, logger: Logger = silentLogger): Promise<RunningBridge> {
  return startBridge({
    config,
    logger,
    mqtt: { republishDelayMs: 50, staleSweepMs: 300, reconnectMinMs: 100, reconnectMaxMs: 500 },
  });
}

/** Waits for a message on an account's state `topic` that reports `state`. */
export function waitForState(ha: HaClient, topic: string, state: string, timeoutMs: number) {
  return ha.waitFor((m) => m.topic === topic && (json(m) as { state: string }).state === state, timeoutMs);
}
