/**
 * Shared setup for the engine and bridge tests: one simulated account, a temporary state folder,
 * the validated configuration, the engine or the whole bridge, waiting helpers and the cleanup
 * (`afterEach(cleanUp)` or `afterAll(cleanUp)` in the test file).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningBridge, startBridge } from "../../src/bridge.ts";
import { resolveConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";
import { Engine, type EngineOptions } from "../../src/engine/engine.ts";
import { type Logger, silentLogger } from "../../src/logger.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import { parseScenario, type Scenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../../src/simulator/service-modules.ts";
import { type HaClient, json, sleep } from "./mqtt.ts";

/** The simulated Apple account a test signs in to. */
export interface TestAccount {
  appleId: string;
  password: string;
  /** The code the simulated devices show. */
  code: string;
  dsid?: string;
}

const cleanups: Array<() => Promise<void>> = [];

/** Registers a cleanup for the end of the test (or of the file, with `afterAll(cleanUp)`). */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** Runs the registered cleanups, the newest first. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Polls `condition` every 20 ms; throws after `timeoutMs`, naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Starts the simulator with every service module (a parsed scenario or a scenario file); closed at cleanup. */
export async function startScenario(scenario: Scenario | string): Promise<SimulatorHandle> {
  const sim = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
  onCleanup(() => sim.close());
  return sim;
}

/**
 * A simulator with `account`, signing in with SRP s2k (1000 iterations) and an hsa2 code unless
 * `spec.mfa` says otherwise; `spec` adds the account's services, lifetimes and the like.
 */
export function startTestSimulator(
  account: TestAccount,
  spec: Record<string, unknown> = {},
  faults?: FaultSpec[],
): Promise<SimulatorHandle> {
  const scenario = parseScenario({
    accounts: [
      {
        apple_id: account.appleId,
        password: account.password,
        ...(account.dsid === undefined ? {} : { dsid: account.dsid }),
        srp: { protocol: "s2k", iterations: 1000 },
        mfa: { kind: "hsa2", code: account.code },
        ...spec,
      },
    ],
    ...(faults === undefined ? {} : { faults }),
  });
  return startScenario(scenario);
}

/** A fresh folder under the system's temporary folder; removed at cleanup. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

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
