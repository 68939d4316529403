import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/load.ts";
import { Engine } from "../src/engine/engine.ts";
import { isBridgeError } from "../src/errors.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";

const ID = "recover@example.com";
const PASSWORD = "pw-recover-123";
const CODE = "135790";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(mfa: "none" | "hsa2", account: Record<string, unknown> = {}) {
  const scenario = parseScenario({
    accounts: [
      {
        apple_id: ID,
        password: PASSWORD,
        srp: { protocol: "s2k", iterations: 1000 },
        mfa: { kind: mfa, code: CODE, trusted_phone_numbers: [{ id: 1, number: "+1 ••80", push_mode: "sms" }] },
        calls: { generate: { count: 2, seed: 1 } },
      },
    ],
  });
  const sim = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
  const dir = await mkdtemp(join(tmpdir(), "engine-recovery-"));
  const { config } = await resolveConfig({
    state_dir: dir,
    accounts: [
      {
        id: "a",
        username: ID,
        password: PASSWORD,
        endpoint: sim.url,
        findmy: { enabled: false },
        photos: { enabled: false },
        calls: { schedule: "1s" },
        ...account,
      },
    ],
    http: { enabled: false },
  });
  const engine = new Engine({ config, retryDelayMs: 200 });
  const failures: string[] = [];
  engine.bus.on({}, "sync.failed", ({ code }) => {
    failures.push(code);
  });
  cleanups.push(async () => {
    await engine.stop();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  await engine.start();
  return { sim, engine, failures };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function expireEverything(sim: SimulatorHandle): Promise<unknown> {
  return Promise.all(
    ["validate_token", "session_token", "web_session"].map((what) =>
      fetch(`${sim.url}/__sim/accounts/${ID}/expire`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ what }),
      }),
    ),
  );
}

describe("engine recovery", () => {
  it("a re-sign-in that fails with 503 inside a scheduled job is reported and retried until polling resumes", async () => {
    const { sim, engine, failures } = await setup("none");
    await until(() => engine.snapshot("a").state.services.calls.last_sync !== null);
    await expireEverything(sim);
    sim.faults.add({ endpoint: "idmsa.signin.init", kind: "unavailable", times: 8 });
    await until(() => failures.includes("service-unavailable"));
    const failedAt = Date.now();
    await until(() => {
      const state = engine.snapshot("a").state;
      const last = state.services.calls.last_sync;
      return state.session.state === "active" && last !== null && Date.parse(last) > failedAt;
    }, 30_000);
    expect(sim.faults.list()).toHaveLength(0);
  }, 45_000);

  it("a wrong password is reported once (sync.failed) and never retried", async () => {
    const { sim, engine, failures } = await setup("none", { password: "not-the-password" });
    await until(() => engine.snapshot("a").state.prevError !== null);
    expect(engine.snapshot("a").state.prevError?.code).toBe("invalid-credentials");
    await new Promise((r) => setTimeout(r, 1500));
    expect(failures).toEqual(["invalid-credentials"]);
    expect(sim.stats(ID).signin_init).toBe(1);
    expect(sim.stats(ID).srp_failures).toBe(1);
  });

  it("after the MFA timeout a code is refused until re-authentication; unknown devices are NOT_FOUND", async () => {
    const { engine } = await setup("hsa2", { mfa_timeout: "1s", findmy: { enabled: true } });
    await until(() => engine.snapshot("a").state.prevError?.code === "mfa-timeout");
    expect(engine.snapshot("a").state.nextSync).toBeNull();
    await expect(engine.execute("mfa", { account: "a", code: CODE })).rejects.toSatisfy(
      (e) => isBridgeError(e, "INVALID_STATE") && /timed out/.test(e.message),
    );
    await engine.execute("reauthenticate", { account: "a" });
    await until(() => engine.snapshot("a").state.state === "blocked");
    await engine.execute("mfa", { account: "a", code: CODE });
    await until(() => engine.snapshot("a").devices.length > 0);
    await expect(engine.execute("play_sound", { account: "a", device: "no such phone" })).rejects.toSatisfy((e) =>
      isBridgeError(e, "NOT_FOUND"),
    );
  }, 30_000);
});
