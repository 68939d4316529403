import { type AddressInfo, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBridge, startBridge } from "../../src/bridge.ts";
import { silentLogger } from "../../src/logger.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { startTestBridge, testConfig, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, startTestSimulator, type TestAccount, tempDir } from "../support/harness.ts";
import { HaClient, json, type Received } from "../support/mqtt.ts";

const APPLE_ID = "jane@example.com";
const PASSWORD = "bridge-e2e-password";
const CODE = "024680";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: PASSWORD, code: CODE };

interface Setup {
  sim: SimulatorHandle;
  stateDir: string;
  bridge?: RunningBridge;
  ha?: HaClient;
}

afterEach(cleanUp);

/** A fresh simulator and state folder; the bridge and the client a test starts are stopped after it. */
async function setUp(): Promise<Setup> {
  const sim = await startTestSimulator(ACCOUNT, {
    mfa: {
      kind: "hsa2",
      code: CODE,
      trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" }],
    },
    findmy: {},
    photos: { count: 30, seed: 3 },
    calls: { generate: { count: 5, seed: 2 } },
  });
  const setup: Setup = { sim, stateDir: await tempDir("i2m-e2e-") };
  onCleanup(async () => {
    await setup.ha?.close();
    await setup.bridge?.stop();
  });
  return setup;
}

async function start(setup: Setup): Promise<RunningBridge> {
  const config = await testConfig({ sim: setup.sim, dir: setup.stateDir, account: ACCOUNT, id: "jane" });
  setup.bridge = await startTestBridge(config);
  return setup.bridge;
}

const has = (topic: string) => (m: Received) => m.topic === topic;

describe("bridge end to end (simulator → engine → MQTT)", () => {
  it("discovers the account, takes the MFA code over MQTT, then publishes devices, photos and calls", async () => {
    const setup = await setUp();
    const { sim } = setup;
    const bridge = await start(setup);
    const ha = await HaClient.connect(bridge.broker!.url);
    setup.ha = ha;

    // Before the code: the account is blocked and unavailable, its HA device (with the MFA text entity) is discovered.
    const state = await waitForState(ha, "icloud2mqtt/jane/state", "blocked", 15_000);
    expect(json(state)).toMatchObject({
      account: "jane",
      state: "blocked",
      session: { state: "failed", error: "code-required" },
    });
    expect(ha.last("icloud2mqtt/jane/availability")?.payload.toString()).toBe("offline");
    const accountConfig = await ha.waitFor(
      (m) => /^homeassistant\/device\/.*jane.*\/config$/.test(m.topic) && m.payload.length > 0,
    );
    const discovery = json(accountConfig) as {
      cmps: Record<string, { p: string; mode?: string; cmd_t?: string; command_topic?: string }>;
    };
    const text = Object.values(discovery.cmps).find((c) => c.p === "text");
    expect(text).toBeDefined();
    expect(text?.mode).toBe("password");

    // The user reads the code on the (simulated) iPhone and sends it over MQTT.
    expect(sim.deviceCode(APPLE_ID)?.code).toBe(CODE);
    await ha.publish(
      "icloud2mqtt/bridge/request/mfa",
      JSON.stringify({ account: "jane", code: CODE, transaction: "t1" }),
    );
    const response = await ha.waitFor(has("icloud2mqtt/bridge/response/mfa"), 15_000);
    expect(json(response)).toMatchObject({ status: "ok", transaction: "t1" });
    await ha.waitFor((m) => m.topic === "icloud2mqtt/jane/availability" && m.payload.toString() === "online", 15_000);

    // Devices, the photo count and the last call arrive after the first sync.
    await ha.waitFor((m) => m.topic.startsWith("icloud2mqtt/jane/devices/"), 20_000);
    await ha.waitFor(has("icloud2mqtt/jane/photos/count"), 20_000);
    await ha.waitFor(has("icloud2mqtt/jane/calls/last"), 20_000);
    const latest = await ha.waitFor(has("icloud2mqtt/jane/photos/latest"), 20_000);
    expect(json(latest)).toMatchObject({ data_type: "icpl.asset" });
    const thumbnail = await ha.waitFor(has("icloud2mqtt/jane/photos/latest/thumbnail"), 20_000);
    expect([...thumbnail.payload.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const devices = ha.messages.filter((m) => m.topic.startsWith("icloud2mqtt/jane/devices/"));
    for (const d of devices) expect(json(d)).toMatchObject({ data_type: "fmip.device" });
    const deviceConfigs = ha.messages.filter(
      (m) => m.topic.startsWith("homeassistant/device/") && m.payload.length > 0,
    );
    expect(deviceConfigs.length).toBeGreaterThan(2);

    // The code and the password never appear in what the bridge publishes (requests are the HA client's own).
    for (const m of ha.messages.filter((m) => !m.topic.includes("/bridge/request/"))) {
      const text = m.payload.toString("latin1");
      expect(text).not.toContain(CODE);
      expect(text).not.toContain(PASSWORD);
    }
    expect(sim.stats(APPLE_ID).srp_signins).toBe(1);
  }, 60_000);

  it("a restart reuses the stored session (no code, no new SRP sign-in) and repeats no events", async () => {
    const setup = await setUp();
    const { sim } = setup;
    let bridge = await start(setup);
    let ha = await HaClient.connect(bridge.broker!.url);
    await waitForState(ha, "icloud2mqtt/jane/state", "blocked", 15_000);
    await ha.publish("icloud2mqtt/bridge/request/mfa", JSON.stringify({ account: "jane", code: CODE }));
    await ha.waitFor(has("icloud2mqtt/jane/calls/last"), 20_000);
    await ha.close();
    await bridge.stop();
    setup.bridge = undefined;

    bridge = await start(setup);
    ha = await HaClient.connect(bridge.broker!.url);
    setup.ha = ha;
    await ha.waitFor((m) => m.topic === "icloud2mqtt/jane/availability" && m.payload.toString() === "online", 15_000);
    await ha.waitFor(has("icloud2mqtt/jane/calls/last"), 20_000);
    // The new (embedded) broker gets the newest photo and its thumbnail from the persisted state.
    await ha.waitFor(has("icloud2mqtt/jane/photos/latest/thumbnail"), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(ha.on("icloud2mqtt/jane/calls/event")).toHaveLength(0);
    expect(ha.on("icloud2mqtt/jane/photos/event")).toHaveLength(0);
    expect(sim.stats(APPLE_ID).srp_signins).toBe(1);
  }, 60_000);

  it("a start that fails (HTTP port taken) stops what it started and never signs in", async () => {
    const setup = await setUp();
    const { sim } = setup;
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const config = await testConfig({ sim, dir: setup.stateDir, account: ACCOUNT, id: "jane", http: { port } });
    await expect(startBridge({ config, logger: silentLogger })).rejects.toThrow(/cannot listen/);
    blocker.close();
    expect(sim.stats(APPLE_ID).signin_init).toBe(0);
    expect(sim.requests()).toEqual([]);
  });
});
