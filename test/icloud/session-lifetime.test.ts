import { stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { SessionStore } from "../../src/icloud/session-store.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, shownCode, stateDir } from "../support/harness.ts";
import { DAY, openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const HOUR = 3_600_000;
const lifetimes = { trust_token: "30d", web_session: "2h", validate_token: "1h", session_token: "10m" };

async function signedIn2fa(id: string, dir: string) {
  const s = sim as SimulatorHandle;
  const session = await openSession(s, id, { dir });
  await session.signIn();
  const snap = await session.submitCode(shownCode(s, id));
  expect(snap.state).toBe("active");
  await session.flush();
  return session;
}

// Against the lenient default and the opt-in strict variant (HSA-LOGIN back on validate, dsid on services).
describe.each([
  { mode: "lenient", strict: false },
  { mode: "strict", strict: true },
])("stored sessions and lifetimes ($mode)", ({ strict }) => {
  const start = (accounts: Parameters<typeof simulator>[0], extra: Parameters<typeof simulator>[1] = {}) =>
    simulator(accounts, { ...extra, strict });

  it("a new client from the store revalidates without SRP or MFA; the file is 0600", async () => {
    sim = await start([account("keep@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    await signedIn2fa("keep@example.com", dir);
    expect((await stat(new SessionStore(dir).pathFor("keep@example.com"))).mode & 0o777).toBe(0o600);
    const restarted = await openSession(sim, "keep@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "active", srp_sign_ins: 1 });
    expect(sim.stats("keep@example.com")).toMatchObject({ srp_signins: 1, validates: 1 });
    expect((await restarted.request("findme", "/test/echo")).status).toBe(200);
  });

  it("validate 421 (expired validate token) → accountLogin with stored tokens, no SRP", async () => {
    sim = await start([account("relogin@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    await signedIn2fa("relogin@example.com", dir);
    sim.clock.advance(1.5 * HOUR);
    const restarted = await openSession(sim, "relogin@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "active", srp_sign_ins: 1 });
    expect(sim.stats("relogin@example.com").srp_signins).toBe(1);
    expect(sim.stats("relogin@example.com").account_logins).toBe(2);
  });

  it("a 421 fault on validate falls back to accountLogin", async () => {
    sim = await start([account("fault421@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    await signedIn2fa("fault421@example.com", dir);
    sim.faults.add({
      endpoint: "setup.validate",
      kind: "status",
      status: 421,
      body: { success: false, error: 1 },
      times: 1,
    });
    const restarted = await openSession(sim, "fault421@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "active", srp_sign_ins: 1 });
    expect(sim.stats("fault421@example.com").account_logins).toBe(2);
  });

  it("web session gone: SRP with the stored trust token, no MFA", async () => {
    sim = await start([account("trusted@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    await signedIn2fa("trusted@example.com", dir);
    sim.clock.advance(3 * HOUR);
    const restarted = await openSession(sim, "trusted@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "active", srp_sign_ins: 2 });
    expect(sim.stats("trusted@example.com").codes_sent.device).toBe(1);
  });

  it("trust expired: MFA again", async () => {
    sim = await start([account("untrusted@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    await signedIn2fa("untrusted@example.com", dir);
    sim.clock.advance(31 * DAY);
    const restarted = await openSession(sim, "untrusted@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "failed", error: "code-required", srp_sign_ins: 2 });
    expect(sim.stats("untrusted@example.com").codes_sent.device).toBe(2);
  });

  it("a service 421 revalidates once and retries; a custom reauth status works too", async () => {
    sim = await start([account("svc@example.com", { mfa: { kind: "none" }, lifetimes })]);
    const session = await openSession(sim, "svc@example.com");
    await session.signIn();
    sim.faults.add({ endpoint: "test.echo", kind: "status", status: 421, times: 1 });
    expect((await session.request("findme", "/test/echo")).status).toBe(200);
    expect(sim.stats("svc@example.com").validates).toBe(1);
    sim.faults.add({ endpoint: "test.echo", kind: "status", status: 450, times: 1 });
    expect((await session.request("findme", "/test/echo", { reauthOn: [450] })).status).toBe(200);
    sim.faults.add({ endpoint: "test.echo", kind: "status", status: 450, times: 1 });
    expect((await session.request("findme", "/test/echo")).status).toBe(450);
    // validate token expired: the service answers 421, validate fails, accountLogin restores it.
    sim.clock.advance(1.5 * 3_600_000);
    expect((await session.request("findme", "/test/echo")).status).toBe(200);
    expect(session.state).toBe("active");
    expect(sim.stats("svc@example.com").srp_signins).toBe(1);
  });

  it("service re-auth that ends in MFA throws code-required", async () => {
    sim = await start([account("svc2@example.com", { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    const session = await signedIn2fa("svc2@example.com", dir);
    sim.clock.advance(31 * DAY);
    await expect(session.request("findme", "/test/echo")).rejects.toMatchObject({ code: "CODE_REQUIRED" });
    expect(session.snapshot()).toMatchObject({ state: "failed", error: "code-required" });
    expect((await session.submitCode(shownCode(sim, "svc2@example.com"))).state).toBe("active");
    expect((await session.request("findme", "/test/echo")).status).toBe(200);
  });

  it.each(["legacy", "bridge2026"] as const)("reads trusted phone numbers in the %s layout", async (layout) => {
    const phones = [
      { id: 7, number: "+49 ••• •••••12", push_mode: "sms" as const },
      { id: 9, number: "+1 (•••) •••-••34", push_mode: "voice" as const },
    ];
    sim = await start([account("layout@example.com", { mfa: { kind: "hsa2", trusted_phone_numbers: phones } })], {
      phone_list_layout: layout,
    });
    const session = await openSession(sim, "layout@example.com");
    const snap = await session.signIn();
    expect(snap.error_info?.trusted_phone_numbers).toEqual(phones);
  });
});
