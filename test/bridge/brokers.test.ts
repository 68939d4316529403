import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsProbe } from "../../src/simulator/calls/index.ts";
import { findPhotosSimulator } from "../../src/simulator/photos/index.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { bridgeHarness, steadyDevice, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, type TestAccount } from "../support/harness.ts";
import { freePort, HaClient, json, MOSQUITTO, type Received, skipMosquitto } from "../support/mqtt.ts";

const CODE = "246813";
const DSID = "20000000077";
const ACCOUNT: TestAccount = {
  appleId: "jane@example.com",
  password: "bridge-brokers-password",
  code: CODE,
  dsid: DSID,
};
const B = "icloud2mqtt";

/** Debian's mosquitto on a fixed port, without persistence (a restart forgets every retained message). */
async function mosquitto(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await (await HaClient.connect(url, ["$SYS/none"])).close();
      break;
    } catch (error) {
      if (i > 200) throw error;
      await sleep(50);
    }
  }
  return {
    url,
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const STEADY = (name: string, model: string, kind: string) =>
  steadyDevice(name, model, kind, 0.8, { latitude: 51.5, longitude: -0.12, age: "2m" });

let port: number;
/** Device discovery configs a fresh client did not get as retained after the broker restart. */
let deviceConfigsMissing: string[] = [];
let broker: { url: string; close(): Promise<void> };
let sim: SimulatorHandle;
let ha: HaClient;
let tx = 0;

beforeAll(async () => {
  if (skipMosquitto) return;
  port = await freePort();
  broker = await mosquitto(port);
  // The broker and the client are replaced by the restart test: close the ones current at the end.
  onCleanup(() => broker.close());
  ({ sim } = await bridgeHarness({
    account: ACCOUNT,
    spec: {
      // A steady world (no battery drain, no route), so a second sync really finds nothing new.
      findmy: {
        first_name: "Jane",
        devices: [STEADY("Jane's iPhone", "iPhone16,1", "iPhone"), STEADY("Jane's iPad", "iPad13,16", "iPad")],
      },
      photos: { count: 8, seed: 5 },
      calls: { generate: { count: 4, seed: 5 } },
    },
    dirPrefix: "i2m-brokers-",
    id: "jane",
    settings: { findmy: { family: false } },
    mqtt: { url: broker.url },
  }));
  ha = await HaClient.connect(broker.url);
  onCleanup(() => ha.close());
  await waitForState(ha, `${B}/jane/state`, "blocked", 20_000);
  await ha.publish(`${B}/bridge/request/mfa`, JSON.stringify({ account: "jane", code: CODE }));
  await ha.waitFor((m) => m.topic === `${B}/jane/calls/last`, 20_000);
  await ha.waitFor((m) => m.topic === `${B}/jane/photos/latest`, 20_000);
  await ha.waitFor((m) => m.topic === `${B}/jane/photos/count`, 20_000);
  await waitForState(ha, `${B}/jane/state`, "ready", 20_000);
});

afterAll(cleanUp);

async function request(command: string, payload: Record<string, unknown>): Promise<{ status: string }> {
  const transaction = `b${++tx}`;
  const from = ha.messages.length;
  await ha.publish(`${B}/bridge/request/${command}`, JSON.stringify({ ...payload, transaction }));
  const m = await ha.waitFor(
    (r) =>
      r.topic === `${B}/bridge/response/${command}` &&
      (json(r) as { transaction?: string }).transaction === transaction,
    20_000,
    from,
  );
  return json(m) as { status: string };
}

const isDevice = (m: Received) => m.topic.startsWith(`${B}/jane/devices/`);
const isDiscovery = (m: Received) => m.topic.startsWith("homeassistant/device/") && m.payload.length > 0;
const since = (from: number, topic: string) => ha.messages.slice(from).filter((m) => m.topic === topic);

describe.skipIf(skipMosquitto)("bridge against Debian's mosquitto", () => {
  it("a Home Assistant client sees discovery, account state and devices", async () => {
    const configs = ha.messages.filter(isDiscovery);
    expect(configs.some((m) => m.topic.includes("_account_jane"))).toBe(true);
    expect(configs.some((m) => m.topic.includes("_bridge"))).toBe(true);
    expect(configs.filter((m) => m.topic.includes("_device_jane_")).length).toBeGreaterThan(0);
    expect(ha.messages.filter(isDevice).length).toBeGreaterThan(0);
    expect(ha.last(`${B}/jane/availability`)?.payload.toString()).toBe("online");
    expect(json(ha.last(`${B}/bridge/state`))).toEqual({ state: "online" });
  });

  it("publishes nothing new when a sync finds nothing changed", async () => {
    const from = ha.messages.length;
    expect(await request("sync", { account: "jane" })).toMatchObject({ status: "ok" });
    await sleep(500);
    const after = ha.messages.slice(from);
    expect(after.filter(isDevice).map((m) => m.topic)).toEqual([]);
    expect(after.filter(isDiscovery).map((m) => m.topic)).toEqual([]);
    for (const topic of ["calls/event", "calls/last", "photos/event", "photos/latest", "photos/count"])
      expect(since(from, `${B}/jane/${topic}`), topic).toHaveLength(0);
  });

  it("a new photo gives exactly one photos/event and a new photos/latest", async () => {
    const photos = findPhotosSimulator(sim.url);
    expect(photos).toBeDefined();
    const count = Number(ha.last(`${B}/jane/photos/count`)?.payload.toString());
    photos?.addPhotos(DSID, 1);
    const from = ha.messages.length;
    expect(await request("sync", { data_types: ["icpl.photos"] })).toMatchObject({ status: "ok" });
    const latest = await ha.waitFor((m) => m.topic === `${B}/jane/photos/latest`, 10_000, from);
    await sleep(300);
    const events = since(from, `${B}/jane/photos/event`);
    expect(events).toHaveLength(1);
    expect(events[0]?.retain).toBe(false);
    const event = json(events[0]) as { event_type: string; id: string };
    expect(event.event_type).toBe("new_photo");
    expect((json(latest) as { id: string }).id).toBe(event.id);
    expect(ha.last(`${B}/jane/photos/count`)?.payload.toString()).toBe(String(count + 1));
  });

  it("a new call gives exactly one calls/event", async () => {
    const id = callsProbe(DSID).addCall({
      id: "LIVE-BROKER-1",
      address: "+12125550177",
      date: new Date(sim.clock.now()).toISOString(),
      direction: "incoming",
      answered: false,
    });
    const from = ha.messages.length;
    expect(await request("sync", { data_types: ["callkit.calls"] })).toMatchObject({ status: "ok" });
    await ha.waitFor((m) => m.topic === `${B}/jane/calls/event`, 10_000, from);
    await sleep(300);
    const events = since(from, `${B}/jane/calls/event`);
    expect(events).toHaveLength(1);
    expect(json(events[0])).toMatchObject({ event_type: "missed", id });
    expect(json(ha.last(`${B}/jane/calls/last`))).toMatchObject({ id });
  });

  it("re-publishes the states after homeassistant/status online", async () => {
    const from = ha.messages.length;
    await ha.publish("homeassistant/status", "online");
    await ha.waitFor((m) => m.topic === `${B}/jane/state`, 10_000, from);
    await ha.waitFor((m) => m.topic === `${B}/jane/availability` && m.payload.toString() === "online", 10_000, from);
    await ha.waitFor((m) => m.topic === `${B}/bridge/state`, 10_000, from);
    await ha.waitFor(isDevice, 10_000, from);
  });

  it("re-publishes everything retained after a broker restart without persistence", async () => {
    const devices = new Set(ha.messages.filter(isDevice).map((m) => m.topic));
    const configs = new Set(ha.messages.filter(isDiscovery).map((m) => m.topic));
    await ha.close();
    await broker.close();
    broker = await mosquitto(port);
    const wanted = [
      `${B}/bridge/state`,
      `${B}/bridge/info`,
      `${B}/jane/state`,
      `${B}/jane/availability`,
      `${B}/jane/calls/last`,
      `${B}/jane/photos/latest`,
      `${B}/jane/photos/count`,
      ...devices,
      ...[...configs].filter((t) => !t.includes("_device_jane_")),
    ];
    // A fresh client sees them as retained messages once the bridge has reconnected (retry until then).
    const deadline = Date.now() + 20_000;
    let missing: string[] = wanted;
    while (missing.length > 0) {
      if (Date.now() > deadline) throw new Error(`not retained after the restart: ${missing.join(", ")}`);
      ha = await HaClient.connect(broker.url);
      await sleep(800);
      const retained = new Set(ha.messages.filter((m) => m.retain).map((m) => m.topic));
      missing = wanted.filter((t) => !retained.has(t));
      if (missing.length > 0) await ha.close();
    }
    const retained = new Set(ha.messages.filter((m) => m.retain).map((m) => m.topic));
    deviceConfigsMissing = [...configs].filter((t) => t.includes("_device_jane_") && !retained.has(t));
    expect(json(ha.last(`${B}/bridge/state`))).toEqual({ state: "online" });
    expect(ha.last(`${B}/jane/availability`)?.payload.toString()).toBe("online");
    // No events were repeated by the reconnect.
    expect(ha.on(`${B}/jane/calls/event`)).toHaveLength(0);
    expect(ha.on(`${B}/jane/photos/event`)).toHaveLength(0);
  });

  it("re-publishes the Apple devices' discovery configs after the broker restart", () => {
    expect(deviceConfigsMissing).toEqual([]);
  });
});
