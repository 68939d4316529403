import { afterEach, describe, expect, it } from "vitest";
import { isEngineError } from "../../src/errors.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { engineHarness } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const ID = "recover@example.com";
const CODE = "135790";
const ACCOUNT: TestAccount = { appleId: ID, password: "pw-recover-123", code: CODE };
afterEach(cleanUp);

async function setup(mfa: "none" | "hsa2", account: Record<string, unknown> = {}) {
  const { sim, engine } = await engineHarness({
    account: ACCOUNT,
    spec: {
      mfa: { kind: mfa, code: CODE, trusted_phone_numbers: [{ id: 1, number: "+1 ••80", push_mode: "sms" }] },
      calls: { generate: { count: 2, seed: 1 } },
    },
    dirPrefix: "engine-recovery-",
    id: "a",
    settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { schedule: "1s" }, ...account },
    // No MQTT settings: the configuration's defaults.
    mqtt: null,
    retryDelayMs: 200,
  });
  const failures: string[] = [];
  engine.bus.on({}, "sync.failed", ({ code }) => {
    failures.push(code);
  });
  await engine.start();
  return { sim, engine, failures };
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
    await until(() => engine.snapshot("a").state.services.calls.last_sync !== null, "the first calls sync");
    await expireEverything(sim);
    sim.faults.add({ endpoint: "idmsa.signin.init", kind: "unavailable", times: 8 });
    await until(() => failures.includes("service-unavailable"), "the 503 failure");
    const failedAt = Date.now();
    await until(
      () => {
        const state = engine.snapshot("a").state;
        const last = state.services.calls.last_sync;
        return state.session.state === "active" && last !== null && Date.parse(last) > failedAt;
      },
      "polling to resume",
      30_000,
    );
    expect(sim.faults.list()).toHaveLength(0);
  }, 45_000);

  it("a wrong password is reported once (sync.failed) and never retried", async () => {
    const { sim, engine, failures } = await setup("none", { password: "not-the-password" });
    await until(() => engine.snapshot("a").state.prevError !== null, "the sign-in failure");
    expect(engine.snapshot("a").state.prevError?.code).toBe("invalid-credentials");
    await new Promise((r) => setTimeout(r, 1500));
    expect(failures).toEqual(["invalid-credentials"]);
    expect(sim.stats(ID).signin_init).toBe(1);
    expect(sim.stats(ID).srp_failures).toBe(1);
  });

  it("after the MFA timeout a code is refused until re-authentication; unknown devices are NOT_FOUND", async () => {
    const { engine } = await setup("hsa2", { mfa_timeout: "1s", findmy: { enabled: true } });
    await until(() => engine.snapshot("a").state.prevError?.code === "mfa-timeout", "the MFA timeout");
    expect(engine.snapshot("a").state.nextSync).toBeNull();
    await expect(engine.execute("mfa", { account: "a", code: CODE })).rejects.toSatisfy(
      (e) => isEngineError(e, "INVALID_STATE") && /timed out/.test(e.message),
    );
    await engine.execute("reauthenticate", { account: "a" });
    await until(() => engine.snapshot("a").state.state === "blocked", "blocked");
    await engine.execute("mfa", { account: "a", code: CODE });
    await until(() => engine.snapshot("a").findmy.devices.length > 0, "the devices");
    await expect(engine.execute("play_sound", { account: "a", device: "no such phone" })).rejects.toSatisfy((e) =>
      isEngineError(e, "NOT_FOUND"),
    );
  }, 30_000);
});
