import { afterEach, describe, expect, it } from "vitest";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, shownCode } from "../support/harness.ts";
import { openSession, simulator } from "../support/simulator.ts";

/**
 * A step after Apple accepted the password (or the code) that fails is resumed by the next sign-in
 * attempt: no second full SRP sign-in (another e-mail to the user) and no second code.
 */

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const ID = "resume@example.com";

describe("resuming an interrupted sign-in", () => {
  it("reading the trusted numbers failed after the password was accepted: the retry sends the code without a new SRP", async () => {
    sim = await simulator([account(ID, { mfa: { kind: "hsa2", trusted_devices: [{ name: "iPhone" }] } })]);
    const session = await openSession(sim, ID);
    sim.faults.add({ endpoint: "idmsa.auth", kind: "status", status: 500 });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "service-unavailable" });
    expect(sim.stats(ID).srp_signins).toBe(1);
    sim.faults.clear();
    expect(await session.signIn()).toMatchObject({ error: "code-required", awaiting: "code" });
    expect(sim.stats(ID)).toMatchObject({ srp_signins: 1, signin_init: 1, codes_sent: { device: 1 } });
    expect(await session.submitCode(shownCode(sim, ID))).toMatchObject({ state: "active" });
  });

  it("trusting this browser failed after the code was accepted: the retry trusts it, no new code or SRP", async () => {
    sim = await simulator([account(ID, { mfa: { kind: "hsa2", trusted_devices: [{ name: "iPhone" }] } })]);
    const session = await openSession(sim, ID);
    expect(await session.signIn()).toMatchObject({ error: "code-required" });
    sim.faults.add({ endpoint: "idmsa.trust", kind: "reset" });
    expect(await session.submitCode(shownCode(sim, ID))).toMatchObject({ state: "failed", awaiting: null });
    sim.faults.clear();
    const done = await session.signIn();
    expect(done).toMatchObject({ state: "active", srp_sign_ins: 1 });
    expect(done.trust_expires_at).not.toBeNull();
    expect(sim.stats(ID)).toMatchObject({ srp_signins: 1, codes_sent: { device: 1 }, trust_tokens_issued: 1 });
  });

  it("a resume Apple no longer accepts falls back to a full sign-in", async () => {
    sim = await simulator([account(ID, { mfa: { kind: "hsa2", trusted_devices: [{ name: "iPhone" }] } })]);
    const session = await openSession(sim, ID);
    sim.faults.add({ endpoint: "idmsa.trusteddevice.trigger", kind: "status", status: 503, times: 8 });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "service-unavailable" });
    // Apple forgot that sign-in: the resumed step is refused for good.
    sim.faults.clear();
    sim.faults.add({ endpoint: "idmsa.auth", kind: "status", status: 401, times: 1 });
    expect(await session.signIn()).toMatchObject({ error: "code-required", awaiting: "code" });
    expect(sim.stats(ID).srp_signins).toBe(2);
  });
});
