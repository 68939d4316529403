import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlatformAccessory } from "homebridge";
import { EngineError } from "icloud2mqtt/engine";
import { FAKE_CALL, FakeEngine, fakeAccountState, fakeDevice } from "icloud2mqtt/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EngineFactory } from "../src/engine-source.ts";
import { HOMEBRIDGE_PACKAGES, loadHomebridge, startInstance } from "./support/homebridge.ts";
import { service, value } from "./support/read.ts";
import { until } from "./support/simulator.ts";

/**
 * The accessories' behaviour on the fake engine of `icloud2mqtt/testing` (events the simulator cannot
 * produce on demand: an id change, a trust about to end, a missed call), in Homebridge 2's real API.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let hb: Awaited<ReturnType<typeof loadHomebridge>>;
let dir: string;
// Homebridge 2 lets a process set its storage path once: these tests share one.
beforeAll(async () => {
  hb = await loadHomebridge(HOMEBRIDGE_PACKAGES[1]);
  dir = await mkdtemp(join(tmpdir(), "i2m-hb-"));
  hb.User.setStoragePath(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function on(fake: FakeEngine): EngineFactory {
  return async () => ({ engine: fake, stop: async () => undefined });
}

const CONFIG = { accounts: [{ id: "jane", username: "jane@example.com" }], pulse_seconds: 1 };

function fakeWith(devices = [fakeDevice("id-1", "Jane's iPhone")]): FakeEngine {
  const fake = new FakeEngine([{ id: "jane" }]);
  fake.setSnapshot("jane", { findmy: { devices } });
  return fake;
}

async function start(fake: FakeEngine, cached: PlatformAccessory[] = [], config: Record<string, unknown> = CONFIG) {
  const instance = await startInstance(hb, config, cached, { createEngine: on(fake) });
  cleanups.push(() => instance.platform.shutdown());
  return instance;
}

const find = (accessories: PlatformAccessory[], name: string) => {
  const found = accessories.find((a) => a.displayName === name);
  if (found === undefined) throw new Error(`no accessory ${name}`);
  return found;
};

describe("accessories on the fake engine", () => {
  it("re-attaches a cached accessory when Apple changes a device's id but name and model match", async () => {
    const first = await start(fakeWith());
    const phone = find(first.platform.accessories, "Jane's iPhone");
    const cache = first.platform.accessories.map((a) => hb.PlatformAccessory.serialize(a));
    await first.platform.shutdown();

    const renamedId = fakeWith([fakeDevice("id-2", "Jane's iPhone"), fakeDevice("id-3", "Jane's iPad")]);
    const second = await start(
      renamedId,
      cache.map((json) => hb.PlatformAccessory.deserialize(json)),
    );
    // The iPhone keeps its accessory (same UUID, new id in its context); only the iPad is new.
    expect(second.registered.map((a) => a.displayName)).toEqual(["Jane's iPad"]);
    expect(second.unregistered).toEqual([]);
    const again = find(second.platform.accessories, "Jane's iPhone");
    expect(again.UUID).toBe(phone.UUID);
    expect(again.context).toEqual({
      kind: "device",
      account: "jane",
      deviceId: "id-2",
      name: "Jane's iPhone",
      model: "iPhone 15 Pro",
    });
    expect(second.updated).toContain(again);
    await again.services
      .find((s) => s.subtype === "play-sound")
      ?.getCharacteristic("On")
      ?.handleSetRequest(true);
    expect(renamedId.executed.at(-1)).toEqual({ command: "play_sound", input: { account: "jane", device: "id-2" } });

    // A device Apple no longer lists goes away; so does a device accessory with another model.
    renamedId.bus.emit("device.removed", { account: "jane", deviceId: "id-3", slug: null });
    expect(second.unregistered.map((a) => a.displayName)).toEqual(["Jane's iPad"]);
  });

  it("removes cached accessories of accounts no longer configured", async () => {
    const first = await start(fakeWith());
    const cache = first.platform.accessories.map((a) => hb.PlatformAccessory.serialize(a));
    await first.platform.shutdown();
    const other = new FakeEngine([{ id: "john" }]);
    const second = await start(
      other,
      cache.map((json) => hb.PlatformAccessory.deserialize(json)),
      { accounts: [{ id: "john", username: "john@example.com" }] },
    );
    expect(second.unregistered.map((a) => a.displayName).sort()).toEqual(["Jane's iPhone", "iCloud jane"]);
    expect(second.registered.map((a) => a.displayName)).toEqual(["iCloud john"]);
  });

  it("pulses New photo and Missed call, opens the sign-in sensor and warns before trust ends", async () => {
    const fake = fakeWith();
    const { platform } = await start(fake);
    const account = find(platform.accessories, "iCloud jane");
    const motion = (subtype: string) => value(service(account, subtype), "Motion Detected");
    fake.bus.emit("photo.new", { account: "jane", asset: {} as never, thumbnail: null });
    expect(await motion("new-photo")).toBe(true);
    fake.bus.emit("call.new", { account: "jane", call: { ...FAKE_CALL, missed: false } });
    expect(await motion("missed-call")).toBe(false);
    fake.bus.emit("call.new", { account: "jane", call: { ...FAKE_CALL, missed: true } });
    expect(await motion("missed-call")).toBe(true);
    await until(
      async () => (await motion("new-photo")) === false && (await motion("missed-call")) === false,
      "pulse end",
      3_000,
    );

    const signIn = service(account, "sign-in");
    const base = fakeAccountState("jane");
    fake.setState("jane", { ...base, state: "blocked" });
    expect(await value(signIn, "Contact Sensor State")).toBe(1);
    const soon = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    fake.setState("jane", { ...base, session: { ...base.session, state: "active", trust_expires_at: soon } });
    expect([await value(signIn, "Contact Sensor State"), await value(signIn, "Status Fault")]).toEqual([0, 1]);
    const later = new Date(Date.now() + 20 * 24 * 3600 * 1000).toISOString();
    fake.setState("jane", { ...base, session: { ...base.session, state: "active", trust_expires_at: later } });
    expect(await value(signIn, "Status Fault")).toBe(0);
    fake.setState("jane", { ...base, session: { ...base.session, state: "failed", error: "invalid-credentials" } });
    expect(await value(signIn, "Contact Sensor State")).toBe(1);
  });

  it("answers a refused command with the HAP status of its engine error", async () => {
    const fake = fakeWith();
    const { platform, log } = await start(fake, [], { ...CONFIG, locate_switch: true });
    const phone = find(platform.accessories, "Jane's iPhone");
    const set = (subtype: string) => service(phone, subtype).getCharacteristic("On")?.handleSetRequest(true);
    fake.failNext.play_sound = new EngineError("RATE_LIMITED", "Apple asks to slow down", {
      info: { retry_after: 30 },
    });
    await expect(set("play-sound")).rejects.toBe(-70403);
    expect(log.lines).toContain(
      "warn Jane's iPhone: play sound failed: RATE_LIMITED: Apple asks to slow down (retrying in 30 s)",
    );
    fake.failNext.locate = new EngineError("NOT_SIGNED_IN", "the iCloud session is not active");
    await expect(set("locate")).rejects.toBe(-70402);
    // Lost mode is not offered unless enabled.
    expect(phone.services.map((s) => s.subtype).sort()).toEqual(
      ["battery", "home", "locate", "play-sound", undefined].sort(),
    );
  });
});
