/**
 * The tests' one harness: the simulator started from a scenario (or one test account), temporary
 * state folders, cleanups and waiting. The other support modules build on it: engine-harness.ts
 * (an engine or the whole bridge on a simulated account), simulator.ts (iCloud sessions against a
 * simulator), photos-world.ts, service-engine.ts, bridge-process.ts, fault-matrix.ts.
 *
 * Cleanups run newest first when the test file calls `cleanUp` (`afterEach(cleanUp)` or
 * `afterAll(cleanUp)`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceRoutesFactory } from "../../src/simulator/context.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../../src/simulator/service-modules.ts";

// ---- cleanups ----

const cleanups: Array<() => Promise<void>> = [];

/** Registers a cleanup for the end of the test (or of the file, with `afterAll(cleanUp)`). */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** Runs the registered cleanups, the newest first. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

// ---- waiting ----

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 20 ms; throws after `timeoutMs`, naming `what`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---- folders ----

/** A fresh folder under the system's temporary folder; removed at cleanup. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh state folder for an iCloud session, not removed at cleanup. */
export async function stateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "icloud-session-"));
}

// ---- the simulator ----

type AccountInput = ScenarioInput["accounts"][number];

/** The password of the scenario accounts `account()` makes. */
export const PASSWORD = "correct horse battery staple";

/** A scenario account signing in with SRP s2k (1000 iterations) and `PASSWORD`. */
export function account(appleId: string, extra: Partial<AccountInput> = {}): AccountInput {
  return { apple_id: appleId, password: PASSWORD, srp: { protocol: "s2k", iterations: 1000 }, ...extra };
}

/** The simulated Apple account a test signs in to. */
export interface TestAccount {
  appleId: string;
  password: string;
  /** The code the simulated devices show. */
  code: string;
  dsid?: string;
}

export interface StartSimOptions {
  /** The service modules it serves; default every one (`SIMULATOR_SERVICES`). */
  services?: readonly ServiceRoutesFactory[];
  /** Closed by `cleanUp`; default true (false: the test closes it). */
  closeAtCleanup?: boolean;
}

/** The simulator on a free port of 127.0.0.1, from a parsed scenario or a scenario file. */
export async function startSim(scenario: Scenario | string, options: StartSimOptions = {}): Promise<SimulatorHandle> {
  const sim = await startSimulator({ scenario, port: 0, services: [...(options.services ?? SIMULATOR_SERVICES)] });
  if (options.closeAtCleanup !== false) onCleanup(() => sim.close());
  return sim;
}

/** Starts the simulator with every service module (a parsed scenario or a scenario file); closed at cleanup. */
export function startScenario(scenario: Scenario | string): Promise<SimulatorHandle> {
  return startSim(scenario);
}

/**
 * A simulator with `account`, signing in with SRP s2k (1000 iterations) and an hsa2 code unless
 * `spec.mfa` says otherwise; `spec` adds the account's services, lifetimes and the like. Closed at cleanup.
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

/** The code the account's trusted device shows now. */
export function shownCode(sim: SimulatorHandle, appleId: string): string {
  const shown = sim.deviceCode(appleId);
  if (!shown) throw new Error("no code shown");
  return shown.code;
}
