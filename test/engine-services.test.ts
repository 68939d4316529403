import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/load.ts";
import { Engine } from "../src/engine/engine.ts";
import type { BridgeEvents } from "../src/engine/events.ts";
import { callHistoryProbe } from "../src/simulator/calls/index.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";
import { sleep } from "./mqtt-support.ts";

const APPLE_ID = "svc@example.com";
const PASSWORD = "engine-services-password";
const CODE = "271828";
const DSID = "20000000099";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function signedIn(services: Record<string, unknown>) {
  const scenario = parseScenario({
    accounts: [
      {
        apple_id: APPLE_ID,
        password: PASSWORD,
        dsid: DSID,
        srp: { protocol: "s2k" as const, iterations: 1000 },
        mfa: { kind: "hsa2" as const, code: CODE },
        ...services,
      },
    ],
  });
  const sim: SimulatorHandle = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
  const dir = await mkdtemp(join(tmpdir(), "i2m-svc-"));
  const { config } = await resolveConfig({
    state_dir: dir,
    accounts: [{ id: "svc", username: APPLE_ID, password: PASSWORD, endpoint: sim.url, findmy: { enabled: false } }],
    mqtt: { url: null, embedded_broker: { port: 0 } },
    http: { enabled: false },
  });
  const engine = new Engine({ config });
  cleanups.push(async () => {
    await engine.stop();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  const failed: BridgeEvents["sync.failed"][0][] = [];
  engine.bus.on(failed, "sync.failed", (f) => void failed.push(f));
  await engine.start();
  await until(() => engine.snapshot("svc").state.state === "blocked", "blocked");
  await engine.execute("mfa", { code: CODE });
  await until(() => engine.snapshot("svc").state.state === "ready", "ready after the code");
  await engine.execute("sync", {});
  return { sim, engine, failed, state: () => engine.snapshot("svc").state };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("engine: service status", () => {
  it("a failing service reports its message and a sync.failed; the next good run clears the message", async () => {
    const { engine, failed, state } = await signedIn({
      photos: { count: 2, seed: 1 },
      calls: { generate: { count: 2, seed: 1 } },
    });
    expect(state().services.calls).toMatchObject({ enabled: true, available: true, message: null });
    expect(failed).toEqual([]);

    callHistoryProbe(DSID).failChanges("THROTTLED", { times: 1 });
    await engine.execute("sync", { data_types: ["callkit.calls"] });
    const broken = state();
    expect(broken.state).toBe("ready");
    expect(broken.progressMsg).toBeNull();
    expect(broken.services.calls.available).toBe(true);
    expect(broken.services.calls.message).toEqual(expect.any(String));
    expect(broken.prevError).toMatchObject({ code: expect.any(String) });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ account: "svc", code: broken.prevError?.code });
    // The other service is untouched.
    expect(broken.services.photos.message).toBeNull();

    await engine.execute("sync", { data_types: ["callkit.calls"] });
    expect(state().services.calls).toMatchObject({ available: true, message: null });
    expect(Date.parse(state().services.calls.last_sync ?? "")).toBeGreaterThan(0);
    expect(failed).toHaveLength(1);
  });

  it("a service the account does not offer is unavailable, without sync.failed", async () => {
    const { failed, state } = await signedIn({ photos: { count: 2, seed: 1 } });
    const calls = state().services.calls;
    expect(calls).toMatchObject({ enabled: true, available: false });
    expect(calls.message).toEqual(expect.any(String));
    expect(state().services.photos).toMatchObject({ available: true, message: null });
    expect(state().state).toBe("ready");
    expect(failed).toEqual([]);
  });

  it("a disabled service is never run and says so", async () => {
    const { state } = await signedIn({ photos: { count: 2, seed: 1 }, calls: { generate: { count: 1, seed: 1 } } });
    expect(state().services.findmy).toMatchObject({
      enabled: false,
      available: false,
      message: "disabled in the configuration",
      last_sync: null,
      next_sync: null,
    });
  });
});
