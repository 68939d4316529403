import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { enterCode, steadyDevice, testConfig } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, startTestSimulator, type TestAccount, tempDir, until } from "../support/harness.ts";

const APPLE_ID = "life@example.com";
const CODE = "314159";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: "engine-lifecycle-password", code: CODE };
const EVENTS = [
  "device.updated",
  "device.removed",
  "call.new",
  "call.last",
  "photo.new",
  "photo.latest",
  "photo.count",
];

const steady = (name: string, model: string, kind: string) =>
  steadyDevice(name, model, kind, 0.5, { latitude: 48.85, longitude: 2.35, age: "3m" });

afterEach(cleanUp);

async function world(faults: FaultSpec[] = []): Promise<{ sim: SimulatorHandle; dir: string }> {
  const sim = await startTestSimulator(
    ACCOUNT,
    {
      findmy: { first_name: "Life", devices: [steady("Life's iPhone", "iPhone16,1", "iPhone")] },
      photos: { count: 4, seed: 9 },
      calls: { generate: { count: 3, seed: 9 } },
    },
    faults,
  );
  const dir = await tempDir("i2m-life-");
  return { sim, dir };
}

async function engine(sim: SimulatorHandle, dir: string) {
  const config = await testConfig({ sim, dir, account: ACCOUNT, id: "life", settings: { findmy: { family: false } } });
  const e = new Engine({ accounts: config.accounts, stateDir: config.state_dir });
  const events: Array<{ name: string; at: number }> = [];
  const owner = {};
  for (const name of [...EVENTS, "account.state", "mfa.required", "sync.failed"] as Array<keyof EngineEvents>)
    e.bus.on(owner, name, () => void events.push({ name, at: Date.now() }));
  let stopped = false;
  onCleanup(async () => {
    if (!stopped) await e.stop();
  });
  return {
    e,
    events,
    stop: async () => {
      stopped = true;
      await e.stop();
    },
  };
}

const synced = (e: Engine) => {
  const s = e.snapshot("life").state;
  return s.state === "ready" && s.services.calls.last_sync !== null && s.services.photos.last_sync !== null;
};

describe("engine lifecycle", () => {
  it("a restart keeps the session and the published values, and repeats no events", async () => {
    const { sim, dir } = await world();
    const first = await engine(sim, dir);
    await first.e.start();
    await enterCode(first.e, "life", CODE);
    await until(() => synced(first.e) && first.events.some((x) => x.name === "call.last"), "the first sync");
    expect(first.events.filter((x) => x.name === "call.new")).toHaveLength(0);
    expect(first.events.filter((x) => x.name === "photo.new")).toHaveLength(0);
    const before = first.e.snapshot("life");
    await first.stop();
    const file = await stat(join(dir, "engine", "life.json"));
    expect(file.mode & 0o777).toBe(0o600);

    const second = await engine(sim, dir);
    // Loaded before start: front-ends can publish the last values at once.
    await second.e.load();
    const loaded = second.e.snapshot("life");
    expect(loaded.findmy.devices).toEqual(before.findmy.devices);
    expect(loaded.calls.last).toEqual(before.calls.last);
    expect(loaded.photos.latest?.asset).toEqual(before.photos.latest?.asset);
    expect(loaded.photos.count).toBe(before.photos.count);

    await second.e.start();
    await until(() => synced(second.e), "the sync after the restart");
    await second.e.execute("sync", {});
    expect(second.events.filter((x) => EVENTS.includes(x.name)).map((x) => x.name)).toEqual([]);
    expect(second.events.filter((x) => x.name === "mfa.required")).toHaveLength(0);
    expect(sim.stats(APPLE_ID).srp_signins).toBe(1);
  });

  it("stopping during a sign-in neither rejects nor emits anything afterwards", async () => {
    const { sim, dir } = await world([{ endpoint: "idmsa.signin.init", kind: "latency", delay_ms: 800, times: 1 }]);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    onCleanup(async () => void process.off("unhandledRejection", onRejection));
    const { e, events, stop } = await engine(sim, dir);
    await e.start();
    await until(() => e.snapshot("life").state.state === "running", "the sign-in");
    // The SRP request is in flight (its latency fault was taken); a stop before it would prevent it.
    await until(() => sim.faults.list().length === 0, "the sign-in request");
    await stop();
    const stoppedAt = Date.now();
    await until(() => sim.stats(APPLE_ID).signin_init >= 1, "the delayed request");
    await sleep(1_500);
    expect(rejections).toEqual([]);
    expect(events.filter((x) => x.at > stoppedAt).map((x) => x.name)).toEqual([]);
  });

  it("stopping while a stored session is validated does not fail the sync that would follow", async () => {
    const { sim, dir } = await world();
    const first = await engine(sim, dir);
    await first.e.start();
    await enterCode(first.e, "life", CODE);
    await until(() => synced(first.e), "the first sync");
    await first.stop();

    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    onCleanup(async () => void process.off("unhandledRejection", onRejection));
    sim.faults.add({ endpoint: "setup.validate", kind: "latency", delay_ms: 800, times: 1 });
    const validates = sim.stats(APPLE_ID).validates;
    const second = await engine(sim, dir);
    await second.e.start();
    await until(() => second.e.snapshot("life").state.state === "running", "the validation");
    await second.stop();
    const stoppedAt = Date.now();
    await until(() => sim.stats(APPLE_ID).validates > validates, "the delayed validate");
    await sleep(1_500);
    expect(rejections).toEqual([]);
    expect(second.events.filter((x) => x.at > stoppedAt).map((x) => x.name)).toEqual([]);
  });
});
