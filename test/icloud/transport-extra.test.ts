import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { ICloudSession } from "../../src/icloud/session.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { account, PASSWORD, shownCode, stateDir } from "../support/harness.ts";
import { DAY, echoService, openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("session transport", () => {
  it("concurrent 421s share one re-auth; while a code is needed services fail fast", async () => {
    sim = await simulator([account("conc@example.com", { mfa: { kind: "hsa2" } })]);
    const session = await openSession(sim, "conc@example.com");
    await session.signIn();
    await session.submitCode(shownCode(sim, "conc@example.com"));
    const states: string[] = [];
    session.onChange((s) => states.push(`${s.state}:${s.error ?? ""}`));
    sim.clock.advance(31 * DAY);
    const results = await Promise.allSettled([0, 1, 2].map(() => session.request("findme", "/test/echo")));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(sim.stats("conc@example.com").srp_signins).toBe(2);
    await expect(session.request("findme", "/test/echo")).rejects.toMatchObject({ code: "CODE_REQUIRED" });
    expect(sim.stats("conc@example.com")).toMatchObject({ srp_signins: 2, codes_sent: { device: 2 } });
    expect(states).toEqual(["expired:", "failed:code-required"]);
  });

  it("talks TLS to a self-signed endpoint through an injected dispatcher", async () => {
    sim = await startSimulator({
      scenario: parseScenario({ accounts: [account("tls@example.com", { mfa: { kind: "none" } })] }),
      port: 0,
      tls: true,
      services: [echoService],
    });
    expect(sim.url.startsWith("https://")).toBe(true);
    const dispatcher = new Agent({ connect: { ca: sim.tls?.ca } });
    const dir = await stateDir();
    const session = await ICloudSession.open({
      username: "tls@example.com",
      password: PASSWORD,
      endpoint: sim.url,
      store: new SessionStore(dir),
      http: { dispatcher },
    });
    expect((await session.signIn()).state).toBe("active");
    expect((await session.request("findme", "/test/echo")).status).toBe(200);
    const restarted = await ICloudSession.open({
      username: "tls@example.com",
      endpoint: sim.url,
      store: new SessionStore(dir),
      http: { dispatcher },
    });
    await session.flush();
    expect((await restarted.signIn()).state).toBe("active");
    expect(sim.stats("tls@example.com").srp_signins).toBe(1);
    await dispatcher.close();
  });

  it("streams downloads with the session cookies", async () => {
    sim = await simulator([account("dl@example.com", { mfa: { kind: "none" } })]);
    const session = await openSession(sim, "dl@example.com");
    await session.signIn();
    const base = session.serviceUrl("findme");
    expect(base).toBeDefined();
    const { dsid } = (await session.request("findme", "/test/echo")).json as { dsid: string };
    const res = await session.download(`${base}/test/echo?dsid=${dsid}`, { headers: { Range: "bytes=0-" } });
    expect(res.status).toBe(200);
    let text = "";
    for await (const chunk of res.body) text += String(chunk);
    expect(JSON.parse(text)).toMatchObject({ dsid });
    expect(session.serviceUrl("nope")).toBeUndefined();
    await expect(session.request("nope", "/x")).rejects.toMatchObject({ code: "SERVICE_NOT_AVAILABLE" });
  });

  it("refuses service calls before sign-in and rejects bad input without network", async () => {
    sim = await simulator([account("misuse@example.com", { mfa: { kind: "none" } })]);
    const session = await openSession(sim, "misuse@example.com");
    await expect(session.request("findme", "/test/echo")).rejects.toMatchObject({ code: "NOT_SIGNED_IN" });
    await expect(session.submitCode("123456")).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(session.requestCode({ method: "sms" })).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect(sim.stats("misuse@example.com").signin_init).toBe(0);
  });
});
