import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBridge, startBridge } from "../src/bridge.ts";
import { resolveConfig } from "../src/config/load.ts";
import { type Logger, silentLogger } from "../src/logger.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";
import { HaClient, json, type Received } from "./mqtt-support.ts";

const APPLE_ID = "jane@example.com";
const PASSWORD = "bridge-e2e-password";
const CODE = "024680";

function scenario() {
  return parseScenario({
    accounts: [
      {
        apple_id: APPLE_ID,
        password: PASSWORD,
        srp: { protocol: "s2k" as const, iterations: 1000 },
        mfa: {
          kind: "hsa2" as const,
          code: CODE,
          trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" }],
        },
        findmy: {},
        photos: { count: 30, seed: 3 },
        calls: { generate: { count: 5, seed: 2 } },
      },
    ],
  });
}

interface Setup {
  sim: SimulatorHandle;
  stateDir: string;
  bridge?: RunningBridge;
  ha?: HaClient;
}

const setups: Setup[] = [];

afterEach(async () => {
  for (const s of setups.splice(0)) {
    await s.ha?.close();
    await s.bridge?.stop();
    await s.sim.close();
    await rm(s.stateDir, { recursive: true, force: true });
  }
});

async function bridgeConfig(sim: SimulatorHandle, stateDir: string, brokerUrl?: string) {
  const { config } = await resolveConfig({
    state_dir: stateDir,
    accounts: [{ id: "jane", username: APPLE_ID, password: PASSWORD, endpoint: sim.url }],
    mqtt: brokerUrl ? { url: brokerUrl } : { url: null, embedded_broker: { port: 0 } },
    http: { enabled: false },
  });
  return config;
}

async function start(setup: Setup, brokerUrl?: string, logger: Logger = silentLogger): Promise<RunningBridge> {
  const config = await bridgeConfig(setup.sim, setup.stateDir, brokerUrl);
  setup.bridge = await startBridge({ config, logger, mqtt: { republishDelayMs: 50, staleSweepMs: 300 } });
  return setup.bridge;
}

const has = (topic: string) => (m: Received) => m.topic === topic;

describe("bridge end to end (simulator → engine → MQTT)", () => {
  it("discovers the account, takes the MFA code over MQTT, then publishes devices, photos and calls", async () => {
    const sim = await startSimulator({ scenario: scenario(), port: 0, services: [...SIMULATOR_SERVICES] });
    const setup: Setup = { sim, stateDir: await mkdtemp(join(tmpdir(), "i2m-e2e-")) };
    setups.push(setup);
    const bridge = await start(setup);
    const ha = await HaClient.connect(bridge.broker!.url);
    setup.ha = ha;

    // Before the code: the account is blocked and unavailable, its HA device (with the MFA text entity) is discovered.
    const state = await ha.waitFor(
      (m) => m.topic === "icloud2mqtt/jane/state" && (json(m) as { state: string }).state === "blocked",
      15_000,
    );
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
    const sim = await startSimulator({ scenario: scenario(), port: 0, services: [...SIMULATOR_SERVICES] });
    const setup: Setup = { sim, stateDir: await mkdtemp(join(tmpdir(), "i2m-e2e-")) };
    setups.push(setup);
    let bridge = await start(setup);
    let ha = await HaClient.connect(bridge.broker!.url);
    await ha.waitFor(
      (m) => m.topic === "icloud2mqtt/jane/state" && (json(m) as { state: string }).state === "blocked",
      15_000,
    );
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
    const sim = await startSimulator({ scenario: scenario(), port: 0, services: [...SIMULATOR_SERVICES] });
    const setup: Setup = { sim, stateDir: await mkdtemp(join(tmpdir(), "i2m-e2e-")) };
    setups.push(setup);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const { config } = await resolveConfig({
      state_dir: setup.stateDir,
      accounts: [{ id: "jane", username: APPLE_ID, password: PASSWORD, endpoint: sim.url }],
      mqtt: { url: null, embedded_broker: { port: 0 } },
      http: { port },
    });
    await expect(startBridge({ config, logger: silentLogger })).rejects.toThrow(/cannot listen/);
    blocker.close();
    expect(sim.stats(APPLE_ID).signin_init).toBe(0);
    expect(sim.requests()).toEqual([]);
  });
});
