import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AccountState, Engine } from "icloud2mqtt/engine";
import { fakeAccountState, parseScenario, type SimulatorHandle, startSimulator } from "icloud2mqtt/testing";
import { afterEach, describe, expect, it } from "vitest";
import { accountStatus, errorName } from "../src/index.ts";

const CODE = "246801";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The engine signing in to one simulated account (hsa2, code on a trusted iPhone), not started. */
async function engineOnSimulator(password: string): Promise<Engine> {
  const sim: SimulatorHandle = await startSimulator({
    port: 0,
    scenario: parseScenario({
      accounts: [
        {
          apple_id: "red@example.com",
          password: "node-red-password",
          srp: { protocol: "s2k", iterations: 1000 },
          mfa: { kind: "hsa2", code: CODE, trusted_devices: [{ name: "Red's iPhone", model: "iPhone" }] },
        },
      ],
    }),
  });
  cleanups.push(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), "i2m-nodes-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const engine = new Engine({
    stateDir: dir,
    accounts: [
      {
        id: "red",
        username: "red@example.com",
        password,
        endpoint: sim.url,
        findmy: { enabled: false },
        photos: { enabled: false },
        calls: { enabled: false },
      },
    ],
  });
  cleanups.push(() => engine.stop());
  return engine;
}

describe("accountStatus on a real engine", () => {
  it("shows the wait for the two-factor code, then ready", async () => {
    const engine = await engineOnSimulator("node-red-password");
    await engine.start();
    await until(() => engine.snapshot("red").state.state === "blocked", "the code request");
    expect(accountStatus(engine.snapshot("red").state)).toEqual({
      fill: "yellow",
      shape: "ring",
      text: "code needed (device)",
    });

    await engine.execute("mfa", { code: CODE });
    await until(() => engine.snapshot("red").state.session.state === "active", "the session");
    await until(() => engine.snapshot("red").state.state === "ready", "the account to settle");
    expect(accountStatus(engine.snapshot("red").state)).toEqual({ fill: "green", shape: "dot", text: "ready" });
  });

  it("shows a wrong password as a failed sign-in", async () => {
    const engine = await engineOnSimulator("not-the-password");
    await engine.start();
    await until(() => engine.snapshot("red").state.session.state === "failed", "the failed sign-in");
    expect(accountStatus(engine.snapshot("red").state)).toEqual({
      fill: "red",
      shape: "ring",
      text: "sign-in failed: invalid-credentials",
    });
  });
});

/** An account signed in and idle, as the engine reports it (Find My only). */
const IDLE: AccountState = {
  ...fakeAccountState("red", { services: { findmy: true, photos: false, calls: false, calendar: false } }),
  nextSync: 1_767_225_660_000,
  prevTrigger: null,
  progress: null,
};

describe("accountStatus", () => {
  it("puts what needs the user before work in progress and old errors", () => {
    const expired: AccountState = {
      ...IDLE,
      state: "running",
      prevError: { message: "gone", code: "SESSION_EXPIRED" },
      session: { ...IDLE.session, state: "expired" },
    };
    expect(accountStatus(expired)).toEqual({ fill: "red", shape: "ring", text: "session expired: sign in again" });
    const sms: AccountState = {
      ...IDLE,
      state: "blocked",
      session: { ...IDLE.session, state: "failed", error: "code-required", error_info: { method: "sms" } },
    };
    expect(accountStatus(sms)).toEqual({ fill: "yellow", shape: "ring", text: "code needed (sms)" });
    const twoStep: AccountState = { ...sms, session: { ...sms.session, error_info: { method: "2sv" } } };
    expect(accountStatus(twoStep).text).toBe("code needed (2SV)");
    const noMethod: AccountState = { ...sms, session: { ...sms.session, error_info: null } };
    expect(accountStatus(noMethod).text).toBe("code needed");
    const choice: AccountState = {
      ...sms,
      session: { ...sms.session, error: "choice-required", error_info: { choices: ["sms", "voice"] } },
    };
    expect(accountStatus(choice)).toEqual({ fill: "yellow", shape: "ring", text: "choose where to send the code" });
    const pending: AccountState = { ...IDLE, session: { ...IDLE.session, state: "pending" } };
    expect(accountStatus(pending)).toEqual({ fill: "blue", shape: "ring", text: "signing in" });
    const adp: AccountState = {
      ...IDLE,
      session: { ...IDLE.session, state: "failed", error: "web-access-disabled" },
    };
    expect(accountStatus(adp)).toEqual({ fill: "red", shape: "ring", text: "iCloud web access is off (ADP)" });
  });

  it("shows progress while running and the last error's short name when idle", () => {
    expect(accountStatus({ ...IDLE, state: "running", progressMsg: "refreshing Find My" })).toEqual({
      fill: "blue",
      shape: "ring",
      text: "refreshing Find My",
    });
    expect(accountStatus({ ...IDLE, state: "running" }).text).toBe("syncing");
    expect(accountStatus({ ...IDLE, prevError: { message: "slow down", code: "RATE_LIMITED" } })).toEqual({
      fill: "red",
      shape: "dot",
      text: "error: rate-limited",
    });
    const long = "downloading 1234 of 5678 photos from the shared library";
    const text = accountStatus({ ...IDLE, state: "running", progressMsg: long }).text;
    expect(text).toBe(`${long.slice(0, 39)}…`);
    expect(text).toHaveLength(40);
  });

  it("names engine error codes as ricloud does and keeps unknown codes readable", () => {
    expect(errorName("INVALID_CREDENTIALS")).toBe("invalid-credentials");
    expect(errorName("NETWORK")).toBe("service-unavailable");
    expect(errorName("SOMETHING_NEW")).toBe("something_new");
    expect(errorName("toString")).toBe("tostring");
  });
});
