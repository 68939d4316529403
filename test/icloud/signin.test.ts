import { afterEach, describe, expect, it } from "vitest";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, PASSWORD, shownCode, stateDir } from "../support/harness.ts";
import { DAY, openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const phones = [
  { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" as const },
  { id: 2, number: "+33 •• •• •• •• 58", push_mode: "voice" as const },
];

// Our client must sign in against the lenient default (Apple as the public clients see it) and
// against the opt-in strict variant (latest scnt, HSA-LOGIN back, dsid on service calls).
describe.each([
  { mode: "lenient", strict: false },
  { mode: "strict", strict: true },
])("sign-in ladder against the simulator ($mode)", ({ strict }) => {
  const start = (accounts: Parameters<typeof simulator>[0]) => simulator(accounts, { strict });

  it.each(["s2k", "s2k_fo"] as const)("signs in an account without MFA (%s)", async (protocol) => {
    sim = await start([account("plain@example.com", { srp: { protocol, iterations: 1000 }, mfa: { kind: "none" } })]);
    const session = await openSession(sim, "plain@example.com");
    const snap = await session.signIn();
    expect(snap).toMatchObject({ state: "active", error: null, srp_sign_ins: 1 });
    expect(snap.webservices.length).toBeGreaterThan(0);
    const res = await session.request("findme", "/test/echo", { query: { a: "1" } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      query: { a: "1", clientId: expect.any(String), clientBuildNumber: expect.any(String) },
    });
    expect((res.json as { dsid: string }).dsid).toBe((res.json as { query: { dsid: string } }).query.dsid);
  });

  it("does 2FA with the device code, then trusts this client", async () => {
    sim = await start([account("hsa@example.com", { mfa: { kind: "hsa2", trusted_phone_numbers: phones } })]);
    const session = await openSession(sim, "hsa@example.com");
    const snap = await session.signIn();
    expect(snap).toMatchObject({ state: "failed", error: "code-required", awaiting: "code" });
    expect(snap.error_info?.trusted_phone_numbers).toEqual(phones);
    expect(sim.stats("hsa@example.com").codes_sent.device).toBe(1);
    const done = await session.submitCode(shownCode(sim, "hsa@example.com"));
    expect(done).toMatchObject({ state: "active", error: null, srp_sign_ins: 1, hsa_version: 2 });
    expect(done.trust_expires_at).not.toBeNull();
    expect(Date.parse(done.trust_expires_at ?? "") - Date.now()).toBeGreaterThan(29 * DAY);
  });

  it("keeps a leading zero and accepts the right code after a wrong one", async () => {
    sim = await start([account("zero@example.com", { mfa: { kind: "hsa2", code: "012345" } })]);
    const session = await openSession(sim, "zero@example.com");
    await session.signIn();
    await expect(session.submitCode("12345")).rejects.toMatchObject({ code: "INVALID_INPUT" });
    const wrong = await session.submitCode("999999");
    expect(wrong).toMatchObject({ state: "failed", error: "code-invalid", awaiting: "code" });
    const right = await session.submitCode("012345");
    expect(right.state).toBe("active");
    expect(sim.stats("zero@example.com").srp_signins).toBe(1);
  });

  it("a code entered after the sign-in context expired asks to start again", async () => {
    sim = await start([account("slow@example.com", { mfa: { kind: "hsa2", code: "123456" } })]);
    const session = await openSession(sim, "slow@example.com");
    await session.signIn();
    sim.clock.advance(2 * 3_600_000);
    expect(await session.submitCode("123456")).toMatchObject({ state: "failed", error: "session-expired" });
    expect((await session.signIn()).error).toBe("code-required");
    expect((await session.submitCode("123456")).state).toBe("active");
  });

  it("sends SMS to a chosen number and voice to a given number", async () => {
    sim = await start([account("phone@example.com", { mfa: { kind: "hsa2", trusted_phone_numbers: phones } })]);
    const session = await openSession(sim, "phone@example.com");
    await session.signIn();
    const choose = await session.requestCode({ method: "sms" });
    expect(choose).toMatchObject({ error: "choice-required", awaiting: "choice" });
    expect(choose.error_info?.choices).toHaveLength(2);
    const sms = await session.submitChoice(choose.error_info?.choices?.[1] ?? "");
    expect(sms).toMatchObject({ error: "code-required", error_info: { method: "sms" } });
    expect(sim.deviceCode("phone@example.com")?.channel).toBe("sms");
    const voice = await session.requestCode({ method: "voice", phoneNumberId: 1 });
    expect(voice).toMatchObject({ error: "code-required", error_info: { method: "voice" } });
    expect(sim.deviceCode("phone@example.com")?.channel).toBe("voice");
    expect(sim.stats("phone@example.com").codes_sent).toMatchObject({ sms: 1, voice: 1 });
    const done = await session.submitCode(shownCode(sim, "phone@example.com"));
    expect(done.state).toBe("active");
  });

  it("does legacy 2SV: choice, then code", async () => {
    sim = await start([
      account("twosv@example.com", {
        mfa: {
          kind: "2sv",
          devices_2sv: [{ device_id: "1", device_type: "SMS", phone_number: "********58", area_code: "" }],
        },
      }),
    ]);
    const session = await openSession(sim, "twosv@example.com");
    const snap = await session.signIn();
    expect(snap).toMatchObject({ state: "failed", error: "choice-required" });
    expect(snap.error_info?.choices).toEqual(["********58 - SMS to Phone Number"]);
    const code = await session.submitChoice("********58 - SMS to Phone Number");
    expect(code).toMatchObject({ error: "code-required", error_info: { method: "2sv" } });
    const done = await session.submitCode(shownCode(sim, "twosv@example.com"));
    expect(done).toMatchObject({ state: "active", hsa_version: 1 });
  });

  it("repairs a 412 account and continues", async () => {
    sim = await start([account("repair@example.com", { mfa: { kind: "none" }, repair_needed: true })]);
    const session = await openSession(sim, "repair@example.com");
    expect((await session.signIn()).state).toBe("active");
    expect((await session.request("findme", "/test/echo")).status).toBe(200);
  });

  it("stops on a locked account and never retries SRP by itself", async () => {
    sim = await start([account("locked@example.com", { locked: true })]);
    const dir = await stateDir();
    const session = await openSession(sim, "locked@example.com", { dir });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "account-locked" });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "account-locked" });
    const restarted = await openSession(sim, "locked@example.com", { dir });
    expect(await restarted.signIn()).toMatchObject({ state: "failed", error: "account-locked" });
    expect(sim.stats("locked@example.com").signin_init).toBe(1);
  });

  it("stops on a wrong password until the password changes", async () => {
    sim = await start([account("wrong@example.com", { mfa: { kind: "none" } })]);
    const dir = await stateDir();
    const session = await openSession(sim, "wrong@example.com", { dir, password: "nope" });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "invalid-credentials" });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "invalid-credentials" });
    const sameWrong = await openSession(sim, "wrong@example.com", { dir, password: "nope" });
    expect((await sameWrong.signIn()).error).toBe("invalid-credentials");
    expect(sim.stats("wrong@example.com").signin_init).toBe(1);
    expect((await sameWrong.signIn({ force: true })).error).toBe("invalid-credentials");
    expect(sim.stats("wrong@example.com").signin_init).toBe(2);
    const fixed = await openSession(sim, "wrong@example.com", { dir, password: PASSWORD });
    expect((await fixed.signIn()).state).toBe("active");
  });

  it("refuses web access disabled accounts clearly", async () => {
    sim = await start([account("noweb@example.com", { mfa: { kind: "none" }, web_access_disabled: true })]);
    const session = await openSession(sim, "noweb@example.com");
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "web-access-disabled" });
  });
});
