import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MqttFrontend } from "../../src/mqtt/mqtt-frontend.ts";
import { sleep } from "../support/harness.ts";
import {
  ALL_SERVICES,
  ASSET,
  accountState,
  BROKERS,
  bridgeFor,
  CALL,
  device,
  HaClient,
  JPEG,
  json,
  mqttFakeEngine,
  refreshedState,
  startProxy,
  type TestBroker,
} from "../support/mqtt.ts";

const BASE = "icloud2mqtt";
const STATE = `${BASE}/bridge/state`;

for (const spec of BROKERS) {
  describe.skipIf(spec.skip)(`MQTT bridge against ${spec.name}`, () => {
    let broker: TestBroker;
    const cleanups: Array<() => Promise<void>> = [];
    const track = <T extends { close(): Promise<void> } | MqttFrontend>(thing: T): T => {
      cleanups.push(() => ("stop" in thing ? thing.stop() : thing.close()));
      return thing;
    };

    beforeAll(async () => {
      broker = await spec.start();
    });
    afterAll(async () => {
      await broker.close();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
      // Leave no retained messages behind for the next test.
      const ha = await HaClient.connect(broker.url);
      await sleep(150);
      for (const m of ha.messages) if (m.retain) await ha.publish(m.topic, "", true);
      await ha.close();
    });

    it("publishes online on connect, offline on stop, and bridge info without the Apple ID", async () => {
      const engine = mqttFakeEngine();
      const bridge = bridgeFor(engine, broker.url);
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === STATE && m.payload.toString() === '{"state":"online"}');
      const info = await ha.waitFor((m) => m.topic === `${BASE}/bridge/info`);
      expect(json(info)).toEqual({
        version: "0.1.0",
        commands: [
          "mfa",
          "resend_mfa",
          "choice",
          "sync",
          "reauthenticate",
          "locate",
          "play_sound",
          "send_message",
          "lost_mode",
          "list_devices",
          "list_photos",
          "photo_file",
          "list_calls",
          "list_contacts",
          "contact_image",
          "list_events",
          "list_notes",
          "note_attachment",
        ],
        accounts: [{ id: "acct1", username: "a***@example.com", services: ALL_SERVICES }],
      });
      expect(info.payload.toString()).not.toContain("acct1.owner@");
      await bridge.stop();
      await ha.waitFor((m) => m.topic === STATE && m.payload.toString() === '{"state":"offline"}');
      expect(engine.bus.listenerCount("device.updated")).toBe(0);
    });

    it("the last will marks the bridge offline on an abrupt disconnect, and it comes back online", async () => {
      const proxy = track(await startProxy(broker.port));
      const bridge = track(bridgeFor(mqttFakeEngine(), proxy.url));
      const ha = track(await HaClient.connect(broker.url, [STATE]));
      await bridge.start();
      await ha.waitFor((m) => m.payload.toString() === '{"state":"online"}');
      const mark = ha.messages.length;
      proxy.cut();
      await ha.waitFor((m) => m.payload.toString() === '{"state":"offline"}', 5_000, mark);
      await ha.waitFor((m) => m.payload.toString() === '{"state":"online"}', 10_000, mark);
    });

    it("publishes account state, availability and device state, a device only when it changed", async () => {
      const engine = mqttFakeEngine();
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/availability` && m.payload.toString() === "online");
      expect(json(ha.last(`${BASE}/acct1/state`))).toEqual(accountState("acct1"));

      const topic = `${BASE}/acct1/devices/dev-1`;
      engine.bus.emit("device.updated", { account: "acct1", device: device("dev-1", "Jane's iPhone", 80) });
      await ha.waitFor((m) => m.topic === topic);
      engine.bus.emit("device.updated", { account: "acct1", device: device("dev-1", "Jane's iPhone", 80) });
      engine.bus.emit("device.updated", { account: "acct1", device: device("dev-1", "Jane's iPhone", 75) });
      await ha.waitFor((m) => m.topic === topic && m.payload.toString().includes('"battery_percent":75'));
      await sleep(100);
      expect(ha.on(topic).map((m) => (json(m) as { battery_percent: number }).battery_percent)).toEqual([80, 75]);
      // Discovery for the new device, published once.
      expect(ha.on("homeassistant/device/icloud2mqtt_device_acct1_dev-1/config")).toHaveLength(1);

      engine.bus.emit("mfa.required", { account: "acct1", state: accountState("acct1", "pending") });
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/availability` && m.payload.toString() === "offline");
    });

    it("retains the account state and availability: a late subscriber gets the latest of each", async () => {
      const engine = mqttFakeEngine();
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/availability` && m.payload.toString() === "online");
      const waiting = accountState("acct1", "pending");
      engine.bus.emit("account.state", waiting);
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/availability` && m.payload.toString() === "offline");

      const topics = [`${BASE}/acct1/state`, `${BASE}/acct1/availability`];
      const late = track(await HaClient.connect(broker.url, topics));
      await late.waitFor((m) => m.topic === topics[0]);
      await late.waitFor((m) => m.topic === topics[1]);
      await sleep(100);
      expect(
        late.messages.map((m) => ({ topic: m.topic, retain: m.retain })).sort((a, b) => a.topic.localeCompare(b.topic)),
      ).toEqual([
        { topic: `${BASE}/acct1/availability`, retain: true },
        { topic: `${BASE}/acct1/state`, retain: true },
      ]);
      expect(json(late.last(`${BASE}/acct1/state`))).toEqual(waiting);
      expect(late.last(`${BASE}/acct1/availability`)?.payload.toString()).toBe("offline");
    });

    it("a code prompt keeps trackers and batteries (no 'away', no unknown) and marks their locations stale", async () => {
      const engine = mqttFakeEngine();
      engine.setSnapshot("acct1", { findmy: { devices: [{ ...device("dev-1", "Jane's iPhone"), slug: "jane" }] } });
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      const stale = `${BASE}/acct1/findmy/stale`;
      await ha.waitFor((m) => m.topic === stale && m.payload.toString() === '{"jane":false}');
      const config = json(
        await ha.waitFor((m) => m.topic === "homeassistant/device/icloud2mqtt_device_acct1_dev-1/config"),
      ) as { cmps: Record<string, { p: string; availability: Array<{ topic: string }>; state_topic?: string }> };
      const bridgeOnly = [STATE];
      const withSession = [STATE, `${BASE}/acct1/availability`];
      const topicsOf = (key: string) => config.cmps[key]?.availability.map((a) => a.topic);
      for (const key of ["tracker", "battery", "charging", "battery_state", "last_located", "stale", "online"]) {
        expect(topicsOf(key), key).toEqual(bridgeOnly);
      }
      for (const key of ["play_sound", "locate", "message"]) expect(topicsOf(key), key).toEqual(withSession);
      expect(config.cmps["battery"]?.state_topic).toBe(`${BASE}/acct1/devices/jane`);
      expect(config.cmps["stale"]?.state_topic).toBe(stale);

      const mark = ha.messages.length;
      engine.setState("acct1", accountState("acct1", "failed"));
      engine.bus.emit("mfa.required", { account: "acct1", state: accountState("acct1", "failed") });
      await ha.waitFor(
        (m) => m.topic === `${BASE}/acct1/availability` && m.payload.toString() === "offline",
        5_000,
        mark,
      );
      await ha.waitFor((m) => m.topic === stale && m.payload.toString() === '{"jane":true}', 5_000, mark);
      await sleep(150);
      // Nothing about the device itself changes: HA keeps its last position and battery.
      const after = ha.messages.slice(mark).map((m) => m.topic);
      expect(after.filter((t) => t.startsWith(`${BASE}/acct1/devices/`) || t.startsWith("homeassistant/"))).toEqual([]);
      // The account is signed in again: fresh.
      engine.setState("acct1", accountState("acct1"));
      await ha.waitFor((m) => m.topic === stale && m.payload.toString() === '{"jane":false}', 5_000, mark);
    });

    it("publishes calls and photos: retained latest, non-retained events, raw JPEG thumbnail, count", async () => {
      const engine = mqttFakeEngine();
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      engine.bus.emit("call.new", { account: "acct1", call: CALL });
      engine.bus.emit("photo.new", { account: "acct1", asset: ASSET, thumbnail: JPEG });
      engine.bus.emit("photo.count", { account: "acct1", count: 42 });
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/photos/count`);
      expect(json(ha.last(`${BASE}/acct1/calls/last`))).toEqual(CALL);
      expect(json(ha.last(`${BASE}/acct1/calls/event`))).toEqual({ event_type: "missed", ...CALL });
      expect(json(ha.last(`${BASE}/acct1/photos/latest`))).toEqual(ASSET);
      expect(json(ha.last(`${BASE}/acct1/photos/event`))).toEqual({ event_type: "new_photo", ...ASSET });
      expect(ha.last(`${BASE}/acct1/photos/latest/thumbnail`)?.payload.equals(JPEG)).toBe(true);
      expect(ha.last(`${BASE}/acct1/photos/count`)?.payload.toString()).toBe("42");

      // A late subscriber sees the retained topics, not the events.
      const late = track(await HaClient.connect(broker.url, [`${BASE}/acct1/#`]));
      await late.waitFor((m) => m.topic === `${BASE}/acct1/photos/count`);
      await sleep(100);
      expect(late.on(`${BASE}/acct1/calls/last`)).toHaveLength(1);
      expect(late.on(`${BASE}/acct1/calls/event`)).toHaveLength(0);
      expect(late.on(`${BASE}/acct1/photos/event`)).toHaveLength(0);
    });

    it("retained state survives a bridge restart", async () => {
      const engine = mqttFakeEngine();
      engine.setSnapshot("acct1", { findmy: { devices: [device("dev-1", "iPad")] } });
      const first = bridgeFor(engine, broker.url);
      const ha = track(await HaClient.connect(broker.url, [STATE]));
      await first.start();
      await ha.waitFor((m) => m.payload.toString() === '{"state":"online"}');
      await first.stop();
      await ha.waitFor((m) => m.payload.toString() === '{"state":"offline"}');

      const late = track(await HaClient.connect(broker.url));
      await late.waitFor((m) => m.topic === `${BASE}/acct1/devices/dev-1` && m.retain);
      expect(late.last(STATE)?.payload.toString()).toBe('{"state":"offline"}');
      expect(late.on("homeassistant/device/icloud2mqtt_device_acct1_dev-1/config")).toHaveLength(1);

      const second = track(bridgeFor(engine, broker.url));
      const mark = late.messages.length;
      await second.start();
      await late.waitFor((m) => m.topic === STATE && m.payload.toString() === '{"state":"online"}', 5_000, mark);
    });

    it("re-publishes states (not discovery) after Home Assistant's birth message", async () => {
      const engine = mqttFakeEngine();
      engine.setSnapshot("acct1", {
        findmy: { devices: [device("dev-1", "iPad")] },
        calls: { last: CALL, recent: [CALL] },
      });
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/devices/dev-1`);
      await sleep(400); // past the stale sweep
      const mark = ha.messages.length;
      await ha.publish("homeassistant/status", "online");
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/devices/dev-1`, 5_000, mark);
      await sleep(100);
      const after = ha.messages.slice(mark).map((m) => m.topic);
      expect(after).toEqual(
        expect.arrayContaining([
          STATE,
          `${BASE}/acct1/state`,
          `${BASE}/acct1/availability`,
          `${BASE}/acct1/calls/last`,
        ]),
      );
      expect(after.filter((t) => t.startsWith("homeassistant/device/"))).toEqual([]);
    });

    it("sweeps a leftover retained config and device topic this bridge owns, and keeps foreign ones", async () => {
      const seed = track(await HaClient.connect(broker.url, ["homeassistant/device/+/config"]));
      const leftover = "homeassistant/device/icloud2mqtt_device_acct1_gone/config";
      const foreign = "homeassistant/device/zigbee2mqtt_0x1/config";
      const ownShape = {
        origin: { name: "icloud2mqtt" },
        device: { identifiers: ["icloud2mqtt_device_acct1_gone"] },
        cmps: {},
      };
      await seed.publish(leftover, JSON.stringify(ownShape), true);
      await seed.publish(
        foreign,
        JSON.stringify({ origin: { name: "Zigbee2MQTT" }, device: { identifiers: ["z"] } }),
        true,
      );
      await seed.publish(`${BASE}/acct1/devices/gone`, "{}", true);
      // Another icloud2mqtt instance with base topic "other": not ours to delete.
      const sibling = "homeassistant/device/other_device_acct1_x/config";
      const siblingShape = { origin: { name: "icloud2mqtt" }, device: { identifiers: ["other_device_acct1_x"] } };
      await seed.publish(sibling, JSON.stringify(siblingShape), true);

      const engine = mqttFakeEngine();
      // Every service of the account completed a refresh: what it does not publish is gone.
      engine.setSnapshot("acct1", { state: refreshedState("acct1") });
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === leftover && m.payload.length === 0 && !m.retain);
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/devices/gone` && m.payload.length === 0);
      await sleep(100);
      const check = track(await HaClient.connect(broker.url, ["homeassistant/device/+/config"]));
      await sleep(200);
      const topics = check.messages.map((m) => m.topic);
      expect(topics).toContain(foreign);
      expect(topics).toContain(sibling);
      expect(topics).not.toContain(leftover);
      expect(topics).toEqual(
        expect.arrayContaining([
          "homeassistant/device/icloud2mqtt_bridge/config",
          "homeassistant/device/icloud2mqtt_account_acct1/config",
        ]),
      );
    });

    it("device removal clears its discovery config and retained state", async () => {
      const engine = mqttFakeEngine();
      engine.setSnapshot("acct1", { findmy: { devices: [device("dev-1", "iPad")] } });
      const bridge = track(bridgeFor(engine, broker.url));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      const config = "homeassistant/device/icloud2mqtt_device_acct1_dev-1/config";
      await ha.waitFor((m) => m.topic === config && m.payload.length > 0);
      engine.bus.emit("device.removed", { account: "acct1", deviceId: "dev-1", slug: null });
      await ha.waitFor((m) => m.topic === config && m.payload.length === 0);
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/devices/dev-1` && m.payload.length === 0);
      const late = track(await HaClient.connect(broker.url));
      await sleep(200);
      expect(late.on(config)).toEqual([]);
      expect(late.on(`${BASE}/acct1/devices/dev-1`)).toEqual([]);
    });

    it("leaves discovery out when it is switched off", async () => {
      const bridge = track(bridgeFor(mqttFakeEngine(), broker.url, { discovery: false }));
      const ha = track(await HaClient.connect(broker.url));
      await bridge.start();
      await ha.waitFor((m) => m.topic === `${BASE}/acct1/state`);
      await sleep(100);
      expect(ha.messages.filter((m) => m.topic.startsWith("homeassistant/"))).toEqual([]);
    });
  });
}
