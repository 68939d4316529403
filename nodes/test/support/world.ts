/**
 * The simulated Apple account the node tests sign in to (through `icloud2mqtt/testing`), temporary
 * folders, waiting and cleanup. Everything listens on 127.0.0.1 with a free port.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseScenario, SIMULATOR_SERVICES, type SimulatorHandle, startSimulator } from "icloud2mqtt/testing";

export interface TestAccount {
  appleId: string;
  password: string;
  /** The code the simulated devices show. */
  code: string;
}

export const JANE: TestAccount = { appleId: "jane@example.com", password: "node-red-jane-pw", code: "481516" };

const cleanups: Array<() => Promise<void>> = [];

export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** Runs the registered cleanups, the newest first (`afterAll(cleanUp)`). */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 25 ms; throws after `timeoutMs`, naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const steady = (name: string, model: string, kind: string, battery: number) => ({
  name,
  device_display_name: model,
  raw_device_model: model,
  device_class: kind,
  model_display_name: kind,
  battery_level: battery,
  battery_drain_per_hour: 0,
  location: { latitude: 48.85, longitude: 2.35, age: "2m" },
  // Located at once: the tests need no wait for a fix.
  locate_delay: 0,
});

/**
 * A simulator with `account`: SRP s2k, a two-factor code on a trusted iPhone or by SMS to ••58, two
 * steady devices, a small photo library and call history that grow every 10 simulated minutes.
 */
export async function startAccountSimulator(account: TestAccount = JANE): Promise<SimulatorHandle> {
  const sim = await startSimulator({
    port: 0,
    services: [...SIMULATOR_SERVICES],
    scenario: parseScenario({
      accounts: [
        {
          apple_id: account.appleId,
          password: account.password,
          srp: { protocol: "s2k", iterations: 1000 },
          mfa: {
            kind: "hsa2",
            code: account.code,
            trusted_devices: [{ name: "Jane's iPhone", model: "iPhone" }],
            trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••58", push_mode: "sms" }],
          },
          findmy: {
            first_name: "Jane",
            devices: [
              steady("Jane's iPhone", "iPhone16,1", "iPhone", 0.57),
              steady("Jane's iPad", "iPad13,16", "iPad", 0.9),
            ],
          },
          photos: { count: 3, seed: 4, new_photo_every: "10m" },
          calls: { generate: { count: 2, seed: 4 }, new_call_every: "10m" },
        },
      ],
    }),
  });
  onCleanup(() => sim.close());
  return sim;
}

/** Apple requests the simulator handled for a route (`fmip.playSound`, …). */
export function handled(sim: SimulatorHandle, route: string): number {
  return sim.requests().filter((request) => request.route === route && request.status === 200).length;
}
