import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MqttFrontend } from "../../src/mqtt/mqtt-frontend.ts";
import type { MqttFrontendOptions } from "../../src/mqtt/options.ts";
import { sleep } from "../support/harness.ts";
import { recordingLogger } from "../support/logger.ts";
import {
  accountState,
  bridgeFor,
  device,
  type FakeEngine,
  freePort,
  HaClient,
  json,
  mqttFakeEngine,
  refreshedState,
  skipMosquitto,
  startAedes,
  startMosquitto,
  startProxy,
  type TestBroker,
} from "../support/mqtt.ts";

const BASE = "icloud2mqtt";
const STATE = `${BASE}/bridge/state`;
const REQUEST = (command: string) => `${BASE}/bridge/request/${command}`;
const RESPONSE = (command: string) => `${BASE}/bridge/response/${command}`;
const QUICK = { reconnectMinMs: 50, reconnectMaxMs: 200 } satisfies Partial<MqttFrontendOptions>;

const cleanups: Array<() => Promise<void>> = [];
function track<T extends { close(): Promise<void> } | MqttFrontend>(thing: T): T {
  cleanups.push(() => ("stop" in thing ? thing.stop() : thing.close()));
  return thing;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Retained messages a fresh subscriber gets for `filter`. */
async function retainedOn(url: string, filter: string): Promise<string[]> {
  const probe = await HaClient.connect(url, [filter]);
  await sleep(300);
  await probe.close();
  return probe.messages.filter((m) => m.retain && m.payload.length > 0).map((m) => m.topic);
}

async function onlineAgain(ha: HaClient, from: number): Promise<void> {
  await ha.waitFor((m) => m.topic === STATE && m.payload.toString() === '{"state":"online"}', 5_000, from);
}

describe.skipIf(skipMosquitto)("requests published with the retain flag are refused, never executed", () => {
  it("MQTT 5 (mosquitto): refused with an error response, removed from the broker, and not replayed on reconnect", async () => {
    const broker = track(await startMosquitto());
    const proxy = track(await startProxy(broker.port));
    const engine = mqttFakeEngine();
    const bridge = track(bridgeFor(engine, proxy.url, QUICK));
    const ha = track(await HaClient.connect(broker.url, [RESPONSE("+"), STATE]));
    await bridge.start();
    await onlineAgain(ha, 0);

    const body = JSON.stringify({ account: "acct1", device: "dev-1", transaction: "r1" });
    await ha.publish(REQUEST("play_sound"), body, true);
    const answer = await ha.waitFor((m) => m.topic === RESPONSE("play_sound"));
    expect(json(answer)).toEqual({
      status: "error",
      data: { code: "INVALID_INPUT", retryable: false, info: {} },
      error: expect.stringMatching(/published with the retain flag and is not executed/),
      transaction: "r1",
    });
    expect(await retainedOn(broker.url, REQUEST("+"))).toEqual([]);

    // Two reconnects: nothing is replayed.
    for (let i = 0; i < 2; i++) {
      const from = ha.messages.length;
      proxy.cut();
      await onlineAgain(ha, from);
    }
    await sleep(300);
    expect(engine.executed).toEqual([]);
    expect(ha.on(RESPONSE("play_sound"))).toHaveLength(1);

    // The same request without the flag runs.
    await ha.publish(REQUEST("play_sound"), body);
    await ha.waitFor((m) => m.topic === RESPONSE("play_sound") && (json(m) as { status: string }).status === "ok");
    expect(engine.executed).toEqual([{ command: "play_sound", input: { account: "acct1", device: "dev-1" } }]);
  });

  it("MQTT 3.1.1: a retained request found at connect is refused and removed; its deletion is not run as a request", async () => {
    const broker = track(await startMosquitto());
    const ha = track(await HaClient.connect(broker.url, [RESPONSE("+")]));
    // `reauthenticate` takes an empty payload: the deletion's echo must not run it.
    await ha.publish(REQUEST("reauthenticate"), JSON.stringify({ account: "acct1" }), true);
    const engine = mqttFakeEngine();
    const bridge = track(bridgeFor(engine, broker.url, { ...QUICK, protocolVersion: 4 }));
    await bridge.start();
    const answer = await ha.waitFor((m) => m.topic === RESPONSE("reauthenticate"));
    expect(json(answer)).toMatchObject({ status: "error", data: { code: "INVALID_INPUT" } });
    await sleep(400);
    expect(engine.executed).toEqual([]);
    expect(ha.on(RESPONSE("reauthenticate"))).toHaveLength(1);
    expect(await retainedOn(broker.url, REQUEST("+"))).toEqual([]);
  });

  it("the embedded broker refuses them itself: answered, never stored, never delivered", async () => {
    const broker = track(await startAedes());
    const proxy = track(await startProxy(broker.port));
    const engine = mqttFakeEngine();
    const bridge = track(bridgeFor(engine, proxy.url, { ...QUICK, protocolVersion: 4 }));
    const ha = track(await HaClient.connect(broker.url, [RESPONSE("+"), STATE]));
    await bridge.start();
    await ha.publish(REQUEST("lost_mode"), JSON.stringify({ device: "dev-1", text: "call me", transaction: 7 }), true);
    const answer = await ha.waitFor((m) => m.topic === RESPONSE("lost_mode"));
    expect(json(answer)).toMatchObject({ status: "error", data: { code: "INVALID_INPUT" }, transaction: 7 });
    const from = ha.messages.length;
    proxy.cut();
    await onlineAgain(ha, from);
    await sleep(300);
    expect(engine.executed).toEqual([]);
    expect(await retainedOn(broker.url, REQUEST("+"))).toEqual([]);
  });
});

describe("oversized requests", () => {
  it.skipIf(skipMosquitto)("a payload over 16 KiB is refused before it is decoded", async () => {
    const broker = track(await startMosquitto());
    const engine = mqttFakeEngine();
    const bridge = track(bridgeFor(engine, broker.url, QUICK));
    const ha = track(await HaClient.connect(broker.url, [RESPONSE("+")]));
    await bridge.start();
    await ha.publish(REQUEST("sync"), `{"account":"acct1","pad":"${"x".repeat(100_000)}"}`);
    const answer = await ha.waitFor((m) => m.topic === RESPONSE("sync"));
    expect(json(answer)).toMatchObject({
      status: "error",
      data: { code: "INVALID_INPUT" },
      error: expect.stringMatching(/at most 16384/),
    });
    // Over the client's MQTT 5 maximum packet size (1 MiB) the broker does not even deliver it.
    await ha.publish(REQUEST("locate"), Buffer.alloc(2 * 1024 * 1024, 0x20));
    await sleep(400);
    expect(ha.on(RESPONSE("locate"))).toEqual([]);
    expect(engine.executed).toEqual([]);
    await ha.publish(REQUEST("sync"), JSON.stringify({ account: "acct1" }));
    await ha.waitFor((m) => m.topic === RESPONSE("sync") && (json(m) as { status: string }).status === "ok");
  });

  it("the embedded broker closes a connection that sends a packet over its limit, before reading it", async () => {
    const broker = track(await startAedes());
    const engine = mqttFakeEngine();
    const bridge = track(bridgeFor(engine, broker.url, { ...QUICK, protocolVersion: 4 }));
    const ha = track(await HaClient.connect(broker.url, [RESPONSE("+")]));
    await bridge.start();
    const flooder = track(await HaClient.connect(broker.url, ["nothing/here"]));
    const closed = new Promise<void>((resolve) => flooder.client.once("close", () => resolve()));
    flooder.client.publish(REQUEST("sync"), Buffer.alloc(6 * 1024 * 1024, 0x20), { qos: 1 }, () => undefined);
    await closed;
    await sleep(200);
    await ha.publish(REQUEST("sync"), JSON.stringify({ account: "acct1" }));
    await ha.waitFor((m) => m.topic === RESPONSE("sync") && (json(m) as { status: string }).status === "ok");
    expect(engine.executed).toEqual([{ command: "sync", input: { account: "acct1" } }]);
  });
});

describe.skipIf(skipMosquitto)("a broker that is not there yet", () => {
  it("start() does not fail: it waits with back-off, logs the outage once, and publishes when the broker comes", async () => {
    const port = await freePort();
    const log = recordingLogger();
    const engine = mqttFakeEngine();
    const bridge = track(
      new MqttFrontend({
        api: engine,
        logger: log,
        options: { url: `mqtt://127.0.0.1:${port}`, clientId: "waits", staleSweepMs: 300, ...QUICK },
      }),
    );
    await bridge.start();
    await sleep(1_200);
    let broker: TestBroker = await startMosquitto(port);
    cleanups.push(() => broker.close());
    const ha = track(await HaClient.connect(broker.url, [STATE, `${BASE}/acct1/state`]));
    await ha.waitFor((m) => m.topic === `${BASE}/acct1/state`, 5_000);
    const outage = (text: RegExp) => log.at("warn").filter((l) => text.test(l.msg));
    expect(outage(/not reachable yet/)).toHaveLength(1);
    expect(log.at("error")).toEqual([]);
    expect(log.at("info").filter((l) => /connected to MQTT after \d+ s/.test(l.msg))).toHaveLength(1);

    // The broker goes away and comes back: one more warning, however many attempts in between.
    await broker.close();
    await sleep(1_200);
    broker = await startMosquitto(port);
    const again = track(await HaClient.connect(broker.url, [STATE]));
    await again.waitFor((m) => m.topic === STATE && m.payload.toString() === '{"state":"online"}', 5_000);
    expect(outage(/connection lost/)).toHaveLength(1);
    expect(log.lines.filter((l) => l.level !== "debug").length).toBeLessThan(20);
  });

  it("a broker that refuses the credentials fails start() at once, without retrying", async () => {
    const sockets: Socket[] = [];
    let connections = 0;
    const refusing = createServer((socket) => {
      connections += 1;
      sockets.push(socket);
      socket.on("error", () => undefined);
      // CONNACK, MQTT 3.1.1, return code 5: not authorised.
      socket.once("data", () => socket.end(Buffer.from([0x20, 0x02, 0x00, 0x05])));
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    });
    const address = refusing.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const bridge = bridgeFor(mqttFakeEngine(), `mqtt://127.0.0.1:${port}`, { ...QUICK, protocolVersion: 4 });
    await expect(bridge.start()).rejects.toThrow(/Not authorized/);
    await sleep(400);
    expect(connections).toBe(1);
    await bridge.stop();
  });
});

describe.skipIf(skipMosquitto)("stale retained topics after a fresh start", () => {
  it("are kept until every service of the account completed its first refresh, then only the gone ones are removed", async () => {
    const broker = track(await startMosquitto());
    const seed = track(await HaClient.connect(broker.url, ["nothing/here"]));
    const owned = (node: string) =>
      JSON.stringify({ origin: { name: "icloud2mqtt" }, device: { identifiers: [node] }, cmps: {} });
    const config = (node: string) => `homeassistant/device/${node}/config`;
    for (const id of ["dev-1", "gone"]) {
      await seed.publish(config(`icloud2mqtt_device_acct1_${id}`), owned(`icloud2mqtt_device_acct1_${id}`), true);
      await seed.publish(`${BASE}/acct1/devices/${id}`, "{}", true);
    }
    // A fresh state folder: the engine knows no devices yet and has not refreshed anything.
    const engine: FakeEngine = mqttFakeEngine();
    engine.setSnapshot("acct1", { state: accountState("acct1") });
    const bridge = track(bridgeFor(engine, broker.url, QUICK));
    const ha = track(await HaClient.connect(broker.url, ["homeassistant/device/+/config", `${BASE}/acct1/devices/+`]));
    await bridge.start();
    await sleep(1_000);
    const cleared = () => ha.messages.filter((m) => m.payload.length === 0).map((m) => m.topic);
    expect(cleared()).toEqual([]);

    // The first Find My refresh finds dev-1 only; then the account's refresh is complete.
    engine.setSnapshot("acct1", { state: refreshedState("acct1"), findmy: { devices: [device("dev-1", "iPad")] } });
    engine.bus.emit("device.updated", { account: "acct1", device: device("dev-1", "iPad") });
    engine.bus.emit("account.state", refreshedState("acct1"));
    await ha.waitFor((m) => m.topic === config("icloud2mqtt_device_acct1_gone") && m.payload.length === 0);
    await ha.waitFor((m) => m.topic === `${BASE}/acct1/devices/gone` && m.payload.length === 0);
    await sleep(200);
    expect(cleared().sort()).toEqual([`${BASE}/acct1/devices/gone`, config("icloud2mqtt_device_acct1_gone")].sort());
  });
});
