import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/load.ts";
import type { AccountState } from "../src/engine/account-state.ts";
import { Engine } from "../src/engine/engine.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";
import { sleep } from "./mqtt-support.ts";

const APPLE_ID = "twosv@example.com";
const PASSWORD = "engine-choice-password";
const CODE = "654321";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("engine: a sign-in that needs a choice first (two-step verification)", () => {
  it("blocks for the choice, then for the code, with one mfa.required; the code signs in", async () => {
    const scenario = parseScenario({
      accounts: [
        {
          apple_id: APPLE_ID,
          password: PASSWORD,
          srp: { protocol: "s2k" as const, iterations: 1000 },
          mfa: {
            kind: "2sv" as const,
            code: CODE,
            devices_2sv: [
              { device_id: "1", device_type: "SMS", phone_number: "•••-••21", area_code: "+1" },
              { device_id: "2", device_type: "SMS", phone_number: "•••-••42", area_code: "+1" },
            ],
          },
          photos: { count: 2, seed: 1 },
        },
      ],
    });
    const sim: SimulatorHandle = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
    const dir = await mkdtemp(join(tmpdir(), "i2m-choice-"));
    const { config } = await resolveConfig({
      state_dir: dir,
      accounts: [
        {
          id: "two",
          username: APPLE_ID,
          password: PASSWORD,
          endpoint: sim.url,
          findmy: { enabled: false },
          calls: { enabled: false },
        },
      ],
      mqtt: { url: null, embedded_broker: { port: 0 } },
      http: { enabled: false },
    });
    const engine = new Engine({ config });
    cleanups.push(async () => {
      await engine.stop();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    });
    const required: AccountState[] = [];
    engine.bus.on(required, "mfa.required", ({ state }) => void required.push(state));
    const state = () => engine.snapshot("two").state;
    await engine.start();

    await until(() => state().state === "blocked", "blocked for a choice");
    const choosing = state();
    expect(choosing).toMatchObject({
      state: "blocked",
      progressMsg: "Waiting for a choice of device...",
      session: { state: "failed", error: "choice-required" },
    });
    const choices = choosing.session.error_info?.choices ?? [];
    expect(choices.length).toBeGreaterThanOrEqual(2);
    expect(required).toHaveLength(1);

    // A code before the choice, or a choice nobody offered, are refused and change nothing.
    await expect(engine.execute("mfa", { code: CODE })).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(engine.execute("choice", { choice: "no such device" })).rejects.toBeDefined();
    await until(() => state().state === "blocked", "still blocked");

    const chosen = choices[1] ?? "";
    await expect(engine.execute("choice", { choice: chosen })).resolves.toMatchObject({ awaiting: "code" });
    expect(state()).toMatchObject({
      state: "blocked",
      progressMsg: "Waiting for MFA code...",
      session: { error: "code-required" },
    });
    expect(required).toHaveLength(1);

    await expect(engine.execute("mfa", { code: CODE })).resolves.toMatchObject({ session: "active" });
    await until(() => state().state === "ready" && state().services.photos.last_sync !== null, "the first sync");
    expect(state()).toMatchObject({ prevError: null, session: { state: "active" } });
  });
});
