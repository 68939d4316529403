import { afterEach, describe, expect, it } from "vitest";
import type { RunningBridge } from "../../src/bridge.ts";
import { startTestBridge, steadyDevice, testConfig, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, startTestSimulator, type TestAccount, tempDir } from "../support/harness.ts";
import { BROKERS, HaClient, json, type Received } from "../support/mqtt.ts";

const CODE = "731902";
const ACCOUNT: TestAccount = { appleId: "ghosts@example.com", password: "ha-cleanup-password", code: CODE };
const B = "icloud2mqtt";
const HOME = { latitude: 40.7, longitude: -74, radius: 150 };
const ACCOUNT_CONFIG = "homeassistant/device/icloud2mqtt_account_jane/config";
/** Retained topics that hold call and photo data; none may stay once the services are off. */
const PRIVATE_TOPICS = [
  `${B}/jane/calls/last`,
  `${B}/jane/photos/latest`,
  `${B}/jane/photos/latest/thumbnail`,
  `${B}/jane/photos/count`,
];

interface Discovery {
  cmps: Record<string, { p: string } & Record<string, unknown>>;
}

afterEach(cleanUp);

const discovery = (m: Received) => json(m) as Discovery;
const retainedOn = async (url: string, filters: string[]): Promise<Received[]> => {
  const late = await HaClient.connect(url, filters);
  await sleep(400);
  await late.close();
  return late.messages.filter((m) => m.retain);
};

for (const spec of BROKERS) {
  describe.skipIf(spec.skip)(`Home Assistant cleanup across a restart (${spec.name})`, () => {
    it("removing the home location and disabling photos and calls leaves no ghost entities and no call or photo data", async () => {
      const broker = await spec.start();
      onCleanup(() => broker.close());
      const sim = await startTestSimulator(ACCOUNT, {
        findmy: {
          first_name: "Jane",
          devices: [
            steadyDevice("Jane’s iPhone", "iPhone16,1", "iPhone", 0.6, {
              latitude: HOME.latitude,
              longitude: HOME.longitude,
              age: "1m",
            }),
          ],
        },
        photos: { count: 4, seed: 7 },
        calls: { generate: { count: 3, seed: 7 } },
      });
      const dir = await tempDir("i2m-ghosts-");
      const config = (settings: Record<string, unknown>) =>
        testConfig({ sim, dir, account: ACCOUNT, id: "jane", settings, mqtt: { url: broker.url } });
      const ha = await HaClient.connect(broker.url);
      onCleanup(() => ha.close());
      let bridge: RunningBridge | undefined;
      onCleanup(async () => {
        await bridge?.stop();
      });

      // First run: a home, every service; the user enters the code.
      bridge = await startTestBridge(await config({ findmy: { family: false, home: HOME } }));
      await waitForState(ha, `${B}/jane/state`, "blocked", 20_000);
      await ha.publish(`${B}/bridge/request/mfa`, JSON.stringify({ account: "jane", code: CODE }));
      for (const topic of PRIVATE_TOPICS) await ha.waitFor((m) => m.topic === topic, 20_000);
      const device = await ha.waitFor((m) => m.topic === `${B}/jane/devices/janes_iphone`, 20_000);
      expect(json(device)).toMatchObject({ name: "Jane’s iPhone", slug: "janes_iphone", at_home: true });
      await waitForState(ha, `${B}/jane/state`, "ready", 20_000);
      const deviceConfigTopic = ha.messages.find(
        (m) => m.topic.startsWith("homeassistant/device/icloud2mqtt_device_jane_") && m.payload.length > 0,
      )?.topic;
      if (deviceConfigTopic === undefined) throw new Error("no device discovery");
      const before = discovery(ha.last(deviceConfigTopic) as Received);
      expect(before.cmps["home"]).toMatchObject({ p: "binary_sensor", device_class: "presence" });
      expect(before.cmps["home_distance"]).toMatchObject({ p: "sensor", device_class: "distance" });
      expect(Object.keys(discovery(ha.last(ACCOUNT_CONFIG) as Received).cmps)).toEqual(
        expect.arrayContaining(["latest_photo", "photo_count", "last_call", "call", "photos_sync_problem"]),
      );
      await bridge.stop();
      bridge = undefined;

      // Second run, same state folder and broker: no home, photos and calls off.
      const mark = ha.messages.length;
      bridge = await startTestBridge(
        await config({ findmy: { family: false }, photos: { enabled: false }, calls: { enabled: false } }),
      );
      await waitForState(ha, `${B}/jane/state`, "ready", 20_000);
      const since = (topic: string) => ha.messages.slice(mark).filter((m) => m.topic === topic && m.payload.length > 0);

      // The device: home and distance re-published as tombstones first, then left out.
      await ha.waitFor(
        (m) => m.topic === deviceConfigTopic && m.payload.length > 0 && !("home" in discovery(m).cmps),
        10_000,
        mark,
      );
      const deviceConfigs = since(deviceConfigTopic).map(discovery);
      const tombstone = deviceConfigs.findIndex((d) => JSON.stringify(d.cmps["home"]) === '{"p":"binary_sensor"}');
      expect(tombstone).toBeGreaterThanOrEqual(0);
      expect(deviceConfigs[tombstone]?.cmps["home_distance"]).toEqual({ p: "sensor" });
      expect(deviceConfigs[tombstone]?.cmps["battery"]).toMatchObject({ device_class: "battery" });
      const clean = deviceConfigs.at(-1);
      expect(Object.keys(clean?.cmps ?? {})).not.toContain("home");
      expect(Object.keys(clean?.cmps ?? {})).not.toContain("home_distance");
      expect(clean?.cmps["tracker"]).toMatchObject({ p: "device_tracker" });

      // The account: every photo and call component (and their sync status) removed the same way.
      const accountConfigs = since(ACCOUNT_CONFIG).map(discovery);
      const removal = accountConfigs.find((d) => JSON.stringify(d.cmps["latest_photo"]) === '{"p":"image"}');
      expect(removal?.cmps).toMatchObject({
        latest_photo: { p: "image" },
        new_photo: { p: "event" },
        photo_count: { p: "sensor" },
        last_call: { p: "sensor" },
        call: { p: "event" },
        photos_last_sync: { p: "sensor" },
        calls_sync_problem: { p: "binary_sensor" },
      });
      expect(removal?.cmps["mfa_code"]).toMatchObject({ p: "text", mode: "password" });
      const accountCmps = Object.keys(accountConfigs.at(-1)?.cmps ?? {});
      expect(accountCmps.filter((key) => /photo|call/.test(key))).toEqual([]);
      expect(accountCmps).toEqual(expect.arrayContaining(["mfa_code", "locate_all", "findmy_sync_problem"]));

      // The disabled services' retained data is deleted.
      for (const topic of PRIVATE_TOPICS) {
        await ha.waitFor((m) => m.topic === topic && m.payload.length === 0, 10_000, mark);
      }

      // What the broker keeps for a client that connects now.
      const retained = await retainedOn(broker.url, [`${B}/jane/#`, "homeassistant/device/+/config"]);
      const topics = retained.map((m) => m.topic);
      for (const topic of PRIVATE_TOPICS) expect(topics).not.toContain(topic);
      expect(topics).toContain(`${B}/jane/devices/janes_iphone`);
      const kept = (topic: string) => discovery(retained.find((m) => m.topic === topic) as Received);
      expect(Object.keys(kept(deviceConfigTopic).cmps)).toEqual(Object.keys(clean?.cmps ?? {}));
      expect(Object.keys(kept(ACCOUNT_CONFIG).cmps)).toEqual(accountCmps);
      expect(Object.values(kept(ACCOUNT_CONFIG).cmps).every((c) => Object.keys(c).length > 1)).toBe(true);
      // Resumed from the stored session: one code for both runs.
      expect(sim.stats(ACCOUNT.appleId).srp_signins).toBe(1);
    }, 90_000);
  });
}
