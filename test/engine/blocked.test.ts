import { afterEach, describe, expect, it } from "vitest";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import { type EngineHarness, engineHarness } from "../support/engine-harness.ts";
import { cleanUp, sleep, type TestAccount, until } from "../support/harness.ts";

const APPLE_ID = "blocked@example.com";
const CODE = "112358";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: "engine-blocked-password", code: CODE };
const PHONES = [
  { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" },
  { id: 2, number: "+31 •• ••• ••12", push_mode: "voice" },
];

interface Setup extends EngineHarness {
  events: Array<{ name: keyof EngineEvents; payload: unknown }>;
  states: AccountState[];
}

afterEach(cleanUp);

async function setup(
  account: Record<string, unknown> = {},
  retryDelayMs?: number,
  faults: FaultSpec[] = [],
): Promise<Setup> {
  const harness = await engineHarness({
    account: ACCOUNT,
    spec: {
      mfa: { kind: "hsa2", code: CODE, trusted_phone_numbers: PHONES },
      photos: { count: 3, seed: 1 },
      calls: { generate: { count: 2, seed: 1 } },
    },
    faults,
    dirPrefix: "i2m-blocked-",
    id: "acct",
    settings: { findmy: { enabled: false }, ...account },
    retryDelayMs,
  });
  const s: Setup = { ...harness, events: [], states: [] };
  const { engine } = s;
  const record =
    <K extends keyof EngineEvents>(name: K) =>
    (...args: EngineEvents[K]) =>
      void s.events.push({ name, payload: args[0] });
  engine.bus.on(s, "account.state", (state) => void s.states.push(state));
  for (const name of ["mfa.required", "sync.failed", "call.last", "photo.count"] as const)
    engine.bus.on(s, name, record(name));
  await engine.start();
  return s;
}

const current = (s: Setup) => s.engine.snapshot("acct").state;
const named = (s: Setup, name: keyof EngineEvents) => s.events.filter((e) => e.name === name);

describe("engine: blocked, MFA timeout and sign-in failures", () => {
  it("blocks on code-required with the trusted phone numbers; a wrong code keeps it blocked", async () => {
    const s = await setup();
    await until(() => current(s).state === "blocked", "blocked");
    const blocked = current(s);
    expect(blocked).toMatchObject({
      state: "blocked",
      prevTrigger: "sync",
      progressMsg: "Waiting for MFA code...",
      trustedPhoneNumbers: [
        { id: 1, maskedNumber: PHONES[0]?.number },
        { id: 2, maskedNumber: PHONES[1]?.number },
      ],
      session: {
        state: "failed",
        error: "code-required",
        error_info: { trusted_phone_numbers: PHONES },
      },
    });
    expect(named(s, "mfa.required")).toHaveLength(1);

    await expect(s.engine.execute("mfa", { account: "acct", code: "000000" })).rejects.toMatchObject({
      code: "CODE_INVALID",
    });
    expect(current(s)).toMatchObject({ state: "blocked", prevError: { code: "code-invalid" } });
    // A second wrong code: still blocked, no second mfa.required.
    await expect(s.engine.execute("mfa", { code: "999999" })).rejects.toMatchObject({ code: "CODE_INVALID" });
    expect(current(s).state).toBe("blocked");
    expect(named(s, "mfa.required")).toHaveLength(1);

    await expect(s.engine.execute("mfa", { code: CODE })).resolves.toMatchObject({ session: "active" });
    await until(() => named(s, "call.last").length === 1 && current(s).state === "ready", "first sync");
    expect(current(s)).toMatchObject({ state: "ready", prevError: null, session: { state: "active", error: null } });
    expect(current(s).trustedPhoneNumbers).toBeUndefined();
    const calls = current(s).services.calls;
    expect(Date.parse(calls.next_sync ?? "")).toBeGreaterThan(Date.parse(calls.last_sync ?? ""));
    expect(current(s).nextSync ?? 0).toBeGreaterThan(Date.now());
    expect(named(s, "sync.failed")).toHaveLength(0);
  });

  it("gives up waiting after mfa_timeout: ready, prevError mfa-timeout and a sync.failed event", async () => {
    const s = await setup({ mfa_timeout: "1s" });
    await until(() => current(s).state === "blocked", "blocked");
    // A wrong code does not restart the timeout.
    await expect(s.engine.execute("mfa", { code: "000000" })).rejects.toMatchObject({ code: "CODE_INVALID" });
    await until(() => current(s).state === "ready", "the MFA timeout", 10_000);
    expect(current(s)).toMatchObject({ state: "ready", progressMsg: null, prevError: { code: "mfa-timeout" } });
    expect(named(s, "sync.failed").map((e) => e.payload)).toEqual([
      expect.objectContaining({ account: "acct", code: "mfa-timeout" }),
    ]);
    await sleep(1_500);
    expect(named(s, "sync.failed")).toHaveLength(1);
    expect(current(s).state).toBe("ready");
  });

  it("a wrong password is final: ready with prevError invalid-credentials and no automatic retry", async () => {
    const s = await setup({ password: "not-the-password" }, 200);
    await until(() => current(s).prevError !== null, "the sign-in failure");
    expect(current(s)).toMatchObject({
      state: "ready",
      prevTrigger: "sync",
      prevError: { code: "invalid-credentials" },
    });
    const stats = s.sim.stats(APPLE_ID);
    await sleep(1_500);
    expect(s.sim.stats(APPLE_ID).signin_init).toBe(stats.signin_init);
    expect(s.sim.stats(APPLE_ID).srp_failures).toBe(stats.srp_failures);
    expect(s.sim.stats(APPLE_ID).srp_signins).toBe(stats.srp_signins);
    expect(named(s, "mfa.required")).toHaveLength(0);
    expect(current(s).state).toBe("ready");
  });

  it("retries later when Apple answers 503, then reaches the MFA step", async () => {
    // The HTTP client itself tries each request 4 times (1 s, 2 s, 4 s backoff), so 4 faults make one
    // whole sign-in attempt fail and leave the next one to the engine's retry.
    const times = 4;
    const s = await setup({}, 200, [{ endpoint: "idmsa.signin.init", kind: "unavailable", times }]);
    await until(() => current(s).prevError !== null, "the 503 failure", 25_000);
    expect(current(s).prevError).toMatchObject({ code: "service-unavailable" });
    expect(current(s).state).toBe("ready");
    expect(named(s, "mfa.required")).toHaveLength(0);
    // The engine retries on its own (with backoff) until Apple answers, then waits for the code.
    await until(() => current(s).state === "blocked", "blocked after the retries", 20_000);
    expect(s.sim.faults.list().every((f) => f.remaining === 0)).toBe(true);
    expect(current(s)).toMatchObject({ session: { error: "code-required" } });
    expect(named(s, "mfa.required")).toHaveLength(1);
  });
});
