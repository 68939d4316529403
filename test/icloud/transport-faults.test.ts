import { afterEach, describe, expect, it } from "vitest";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account } from "../support/harness.ts";
import { openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const plain = () => account("net@example.com", { mfa: { kind: "none" } });

describe("transport retry policy (simulator faults)", () => {
  it("backs off on 503 and succeeds", async () => {
    sim = await simulator([plain()], { faults: [{ endpoint: "idmsa.signin.init", kind: "unavailable", times: 2 }] });
    const delays: number[] = [];
    const session = await openSession(sim, "net@example.com", { delays });
    expect((await session.signIn()).state).toBe("active");
    expect(delays).toHaveLength(2);
    expect(delays[1] ?? 0).toBeGreaterThan(0);
  });

  it("honours Retry-After on 429", async () => {
    sim = await simulator([plain()], {
      faults: [{ endpoint: "idmsa.signin.init", kind: "rate_limit", retry_after: 3, times: 1 }],
    });
    const delays: number[] = [];
    const session = await openSession(sim, "net@example.com", { delays });
    expect((await session.signIn()).state).toBe("active");
    expect(delays[0]).toBeGreaterThanOrEqual(3000);
  });

  it("gives up with rate-limited (retry_after) and service-unavailable after a few tries", async () => {
    sim = await simulator([plain()], {
      faults: [{ endpoint: "idmsa.signin.init", kind: "rate_limit", retry_after: 5 }],
    });
    const delays: number[] = [];
    const session = await openSession(sim, "net@example.com", { delays });
    expect(await session.signIn()).toMatchObject({
      state: "failed",
      error: "rate-limited",
      error_info: { retry_after: 5 },
    });
    expect(delays).toHaveLength(2);
    sim.faults.clear();
    sim.faults.add({ endpoint: "idmsa.signin.init", kind: "unavailable" });
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "service-unavailable" });
    expect(sim.stats("net@example.com").srp_signins).toBe(0);
  });

  it("a Retry-After beyond the cap fails at once", async () => {
    sim = await simulator([plain()], {
      faults: [{ endpoint: "idmsa.signin.init", kind: "rate_limit", retry_after: 3600 }],
    });
    const delays: number[] = [];
    const session = await openSession(sim, "net@example.com", { delays });
    expect(await session.signIn()).toMatchObject({ error: "rate-limited", error_info: { retry_after: 3600 } });
    expect(delays).toHaveLength(0);
  });

  it.each(["reset", "malformed", "truncated"] as const)("retries an idempotent call after %s", async (kind) => {
    sim = await simulator([plain()], { faults: [{ endpoint: "idmsa.signin.init", kind, times: 1 }] });
    const delays: number[] = [];
    const session = await openSession(sim, "net@example.com", { delays });
    expect((await session.signIn()).state).toBe("active");
    expect(delays).toHaveLength(1);
  });

  it("does not resend signin/complete after a malformed answer", async () => {
    sim = await simulator([plain()], { faults: [{ endpoint: "idmsa.signin.complete", kind: "malformed", times: 1 }] });
    const session = await openSession(sim, "net@example.com");
    expect(await session.signIn()).toMatchObject({ state: "failed", error: "service-unavailable" });
    expect(session.error?.code).toBe("UNEXPECTED_RESPONSE");
    expect((await session.signIn()).state).toBe("active");
  });
});
