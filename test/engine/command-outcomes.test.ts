import { afterEach, describe, expect, it } from "vitest";
import type { EngineApi } from "../../src/engine/api.ts";
import type { EngineOptions } from "../../src/engine/engine.ts";
import { EngineError } from "../../src/errors.ts";
import { HttpServer } from "../../src/http/index.ts";
import { engineHarness } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, type TestAccount, until } from "../support/harness.ts";
import { httpConfig } from "../support/http.ts";

/**
 * A sign-in step the user asked for resolves only when it was accepted; everything else (a wrong
 * code, code entry locked by Apple, a refused resend, a failed re-authentication) rejects with the
 * session's error, and the account's state and prevError say what happened. The engine's budgets
 * hold whichever front-end asks.
 */

const APPLE_ID = "outcomes@example.com";
const CODE = "246813";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: "outcomes-password-1", code: CODE };
const PHONE = { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" };

afterEach(cleanUp);

async function setup(mfa: Record<string, unknown>, engine: Pick<EngineOptions, "limits"> = {}) {
  const harness = await engineHarness({
    account: ACCOUNT,
    spec: { mfa: { kind: "hsa2", code: CODE, trusted_phone_numbers: [PHONE], ...mfa } },
    dirPrefix: "i2m-outcomes-",
    id: "acct",
    settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
    engine,
  });
  await harness.engine.start();
  await until(() => harness.engine.snapshot("acct").state.state === "blocked", "blocked on the code");
  return harness;
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("the command resolved; it should have been refused");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(EngineError);
      return error as EngineError;
    },
  );

/** An HTTP server on the engine, as `run` starts it. */
async function http(api: EngineApi): Promise<string> {
  const server = new HttpServer({
    api,
    config: httpConfig({ mfa_attempts_per_minute: 60 }),
    push: { enabled: false, subject: null },
    stateDir: "/nonexistent",
  });
  const { url } = await server.start();
  onCleanup(() => server.stop());
  return url;
}

describe("sign-in commands report what Apple answered", () => {
  it("a code after Apple locked code entry is RATE_LIMITED, over the engine and over HTTP; the account shows the failure", async () => {
    const { engine } = await setup({ max_wrong_codes: 2 });
    for (const wrong of ["000000", "999999"]) {
      const error = await rejection(engine.execute("mfa", { code: wrong }));
      expect(error.code).toBe("CODE_INVALID");
    }
    expect(engine.snapshot("acct").state).toMatchObject({ state: "blocked", prevError: { code: "code-invalid" } });

    // Apple has locked code entry: even the right code is refused now.
    const locked = await rejection(engine.execute("mfa", { code: CODE }));
    expect(locked).toMatchObject({ code: "RATE_LIMITED", info: { reason: "security-code-locked" } });
    const state = engine.snapshot("acct").state;
    expect(state).toMatchObject({
      state: "ready",
      prevError: { code: "rate-limited", message: expect.stringMatching(/locked code entry/) },
      session: { state: "failed", error: "rate-limited" },
    });
    expect(state.nextSync).toBeNull();

    // The HTTP API says the same (no "Read MFA code"): nothing is awaited any more.
    const url = await http(engine);
    const answer = await fetch(`${url}api/mfa?code=${CODE}`, { method: "POST" });
    expect(answer.status).toBe(412);
  });

  it("the HTTP API answers a code Apple refuses with the session's error, not 200", async () => {
    const { engine } = await setup({ max_wrong_codes: 1 });
    const url = await http(engine);
    const wrong = await fetch(`${url}api/mfa?code=000000`, { method: "POST" });
    expect(wrong.status).toBe(400);
    const locked = await fetch(`${url}api/mfa?code=${CODE}`, { method: "POST" });
    expect(locked.status).toBe(429);
    expect(await locked.json()).toEqual({ message: expect.stringMatching(/locked code entry/) });
    expect(engine.snapshot("acct").state).toMatchObject({ state: "ready", prevError: { code: "rate-limited" } });
  });

  it("a resend Apple refuses (too many codes sent) is RATE_LIMITED; the account stays blocked and earlier codes still work", async () => {
    // The device push at sign-in is the first code sent; one SMS more is allowed.
    const { engine, sim } = await setup(
      { max_code_sends: 2 },
      { limits: { code_requests: { max: 10, windowMs: 60_000 } } },
    );
    await expect(engine.execute("resend_mfa", { method: "sms", phone_number_id: 1 })).resolves.toMatchObject({
      session: "failed",
      error: "code-required",
      awaiting: "code",
    });
    const sent = sim.stats(APPLE_ID).codes_sent;
    const refused = await rejection(engine.execute("resend_mfa", { method: "sms", phone_number_id: 1 }));
    expect(refused).toMatchObject({ code: "RATE_LIMITED", info: { reason: "too-many-codes-sent" } });
    expect(sim.stats(APPLE_ID).codes_sent).toEqual(sent);
    // Still waiting for a code (the session view says so, with the numbers); prevError tells the refusal.
    expect(engine.snapshot("acct").state).toMatchObject({
      state: "blocked",
      prevError: { code: "rate-limited", message: expect.stringMatching(/sent too many verification codes/) },
      session: { state: "failed", error: "code-required", error_info: { trusted_phone_numbers: [PHONE] } },
    });
    const url = await http(engine);
    expect((await fetch(`${url}api/resend_mfa?method=sms&phoneNumberId=1`, { method: "POST" })).status).toBe(429);
    await expect(engine.execute("mfa", { code: CODE })).resolves.toMatchObject({ session: "active" });
    expect(engine.snapshot("acct").state).toMatchObject({ state: "ready", prevError: null });
  });

  it("a re-authentication that fails is an error with the session's code, not a resolved outcome", async () => {
    const { engine, sim } = await setup({});
    await engine.execute("mfa", { code: CODE });
    await until(() => engine.snapshot("acct").state.state === "ready", "ready");
    sim.faults.add({ endpoint: "setup.validate", kind: "status", status: 421 });
    sim.faults.add({ endpoint: "setup.accountLogin", kind: "status", status: 421 });
    sim.faults.add({ endpoint: "idmsa.signin.complete", kind: "status", status: 401, times: 1 });
    const error = await rejection(engine.execute("reauthenticate", {}));
    expect(error.code).toBe("INVALID_CREDENTIALS");
    expect(engine.snapshot("acct").state).toMatchObject({
      state: "ready",
      prevTrigger: "auth",
      prevError: { code: "invalid-credentials" },
    });
  });
});

describe("per-account budgets shared by every front-end", () => {
  it("code attempts: the sixth wrong code within a minute is refused before it reaches Apple, with retry_after", async () => {
    const { engine, sim } = await setup({ max_wrong_codes: 50 });
    const verified = () => sim.requests().filter((r) => r.route === "idmsa.trusteddevice.verify").length;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => engine.execute("mfa", { code: `00000${i}` })),
    );
    const codes = results.map((r) => (r.status === "rejected" ? (r.reason as EngineError).code : "ok"));
    expect(codes.filter((c) => c === "CODE_INVALID")).toHaveLength(5);
    const limited = results
      .map((r) => (r.status === "rejected" ? (r.reason as EngineError) : undefined))
      .find((e) => e?.code === "RATE_LIMITED");
    expect(limited).toMatchObject({
      retryable: true,
      info: { limit: "code_attempts", retry_after: expect.any(Number) },
    });
    expect(limited?.retryAfter).toBeGreaterThan(0);
    expect(limited?.retryAfter).toBeLessThanOrEqual(60);
    expect(verified()).toBe(5);
    expect(engine.snapshot("acct").state.state).toBe("blocked");
  });

  it("code requests: the fourth resend within ten minutes is refused without asking Apple", async () => {
    const { engine, sim } = await setup({});
    for (let i = 0; i < 3; i++) await engine.execute("resend_mfa", { method: "device" });
    const sent = sim.stats(APPLE_ID).codes_sent;
    const refused = await rejection(engine.execute("resend_mfa", { method: "sms", phone_number_id: 1 }));
    expect(refused).toMatchObject({ code: "RATE_LIMITED", info: { limit: "code_requests" } });
    expect(sim.stats(APPLE_ID).codes_sent).toEqual(sent);
  });

  it("re-authentication and full sign-ins: five quick requests cause at most the budgeted SRP sign-ins", async () => {
    const { engine, sim } = await setup({});
    expect(sim.stats(APPLE_ID).srp_signins).toBe(1);
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        await engine.execute("reauthenticate", {}).then(
          (r) => r.error ?? r.session,
          (e: EngineError) => `${e.code} ${String(e.info["limit"])} ${e.retryAfter}`,
        ),
      );
    }
    expect(outcomes.slice(0, 2)).toEqual(["code-required", "code-required"]);
    for (const refused of outcomes.slice(2)) expect(refused).toMatch(/^RATE_LIMITED reauthentications \d+$/);
    // The start and at most two re-authentications.
    expect(sim.stats(APPLE_ID).srp_signins).toBeLessThanOrEqual(3);
  });

  it("full sign-ins have their own budget, whatever asks for them; the refusal names retry_after", async () => {
    const { engine, sim } = await setup(
      {},
      {
        limits: {
          reauthentications: { max: 10, windowMs: 60_000 },
          full_sign_ins: { max: 2, windowMs: 3_600_000 },
        },
      },
    );
    await engine.execute("reauthenticate", {});
    expect(sim.stats(APPLE_ID).srp_signins).toBe(2);
    const refused = await rejection(engine.execute("reauthenticate", {}));
    expect(refused).toMatchObject({ code: "RATE_LIMITED", info: { limit: "full_sign_ins" } });
    expect(refused.retryAfter).toBeGreaterThan(3000);
    expect(sim.stats(APPLE_ID).srp_signins).toBe(2);
    expect(engine.snapshot("acct").state).toMatchObject({
      prevError: { code: "rate-limited" },
      session: { state: "failed", error: "rate-limited", error_info: { retry_after: refused.retryAfter } },
    });
  });
});
