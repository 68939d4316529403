import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/load.ts";
import type { AccountState } from "../src/engine/account-state.ts";
import { Engine } from "../src/engine/engine.ts";
import type { BridgeEvents } from "../src/engine/events.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";
import { sleep } from "./mqtt-support.ts";

const APPLE_ID = "expiry@example.com";
const PASSWORD = "engine-expiry-password";
const CODE = "192837";

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

describe("engine: the iCloud session ends while the account is ready", () => {
  it("goes blocked (one mfa.required, no sync.failed), and the code resumes syncing", async () => {
    const scenario = parseScenario({
      accounts: [
        {
          apple_id: APPLE_ID,
          password: PASSWORD,
          srp: { protocol: "s2k" as const, iterations: 1000 },
          mfa: { kind: "hsa2" as const, code: CODE },
          // Everything expires after an hour of simulated time.
          lifetimes: { trust_token: "1h", web_session: "1h", validate_token: "1h", session_token: "1h" },
          photos: { count: 2, seed: 4 },
          calls: { generate: { count: 2, seed: 4 } },
        },
      ],
    });
    const sim: SimulatorHandle = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
    const dir = await mkdtemp(join(tmpdir(), "i2m-expiry-"));
    const { config } = await resolveConfig({
      state_dir: dir,
      accounts: [{ id: "exp", username: APPLE_ID, password: PASSWORD, endpoint: sim.url, findmy: { enabled: false } }],
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
    const failed: BridgeEvents["sync.failed"][0][] = [];
    engine.bus.on(required, "mfa.required", ({ state }) => void required.push(state));
    engine.bus.on(failed, "sync.failed", (f) => void failed.push(f));
    const state = () => engine.snapshot("exp").state;
    await engine.start();
    await until(() => state().state === "blocked", "blocked");
    await engine.execute("mfa", { code: CODE });
    await until(() => state().state === "ready" && state().services.calls.last_sync !== null, "the first sync");
    expect(required).toHaveLength(1);

    sim.clock.advance(2 * 3_600_000);
    // The next sync finds the session gone; signing in again needs a new code.
    await engine.execute("sync", {}).catch(() => undefined);
    await until(() => state().state === "blocked", "blocked again");
    expect(state()).toMatchObject({ session: { state: "failed", error: "code-required" } });
    expect(required).toHaveLength(2);
    expect(failed).toEqual([]);
    await sleep(300);
    expect(state().state).toBe("blocked");
    await expect(engine.execute("sync", {})).rejects.toMatchObject({ code: "NOT_SIGNED_IN" });

    const before = state().services.calls.last_sync;
    await engine.execute("mfa", { code: CODE });
    await until(
      () => state().state === "ready" && state().services.calls.last_sync !== before,
      "the sync after the new code",
    );
    expect(state()).toMatchObject({ prevError: null, session: { state: "active", error: null } });
  });
});
