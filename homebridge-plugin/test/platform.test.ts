import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlatformAccessory } from "homebridge";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ControlClient } from "../src/control/control-client.ts";
import { HOMEBRIDGE_PACKAGES, loadHomebridge, startInstance } from "./support/homebridge.ts";
import { readAccessory, service, value } from "./support/read.ts";
import { APPLE_ID, CODE, startTestSimulator, testAccount, until } from "./support/simulator.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

async function storage(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "i2m-hb-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const byName = (accessories: PlatformAccessory[]) =>
  Object.fromEntries(accessories.map((a) => [a.displayName, a] as const));

describe.each(HOMEBRIDGE_PACKAGES)("the platform in $label's HomebridgeAPI against the simulator", (pkg) => {
  it("signs in with the code, shows devices and the account, plays a sound, restores its cache and stops", async () => {
    const hb = await loadHomebridge(pkg);
    const warnings = vi.spyOn(console, "warn");
    const sim = await startTestSimulator();
    cleanups.push(() => sim.close());
    const dir = await storage();
    hb.User.setStoragePath(dir);
    // A short Find My schedule, so a stopped engine shows by the requests that stop.
    const config = { name: "iCloud", accounts: [testAccount(sim, { findmy: findmyEvery("1s") })] };

    const first = await startInstance(hb, config);
    cleanups.push(() => first.platform.shutdown());
    const account = () => byName(first.platform.accessories)["iCloud hb"] as PlatformAccessory;
    expect(first.registered.map((a) => a.displayName)).toEqual(["iCloud hb"]);
    // No session yet: the account waits for a code and the sign-in sensor is open.
    await until(async () => (await value(service(account(), "sign-in"), "Contact Sensor State")) === 1, "open sensor");

    // The settings UI's way in: the loopback API named in control.json (0600).
    const pluginDir = join(dir, "icloud2mqtt");
    expect((await stat(pluginDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(pluginDir, "control.json"))).mode & 0o777).toBe(0o600);
    const control = await ControlClient.find(pluginDir);
    expect(control?.state.accounts.map((a) => [a.id, a.username, a.state.state])).toEqual([
      ["hb", "hb@example.com", "blocked"],
    ]);
    await control?.client.execute("mfa", { account: "hb", code: CODE });
    await until(() => first.platform.accessories.length === 5, "the devices");

    const accessories = byName(first.platform.accessories);
    expect(Object.keys(accessories).sort()).toEqual([
      "Hb's Mac",
      "Hb's iPad",
      "Hb's iPhone",
      "Keys AirTag",
      "iCloud hb",
    ]);
    expect(await readAccessory(accessories["Hb's iPhone"] as PlatformAccessory)).toEqual({
      AccessoryInformation: {
        Manufacturer: "Apple",
        Model: "iPhone",
        "Serial Number": expect.any(String),
      },
      home: { "Occupancy Detected": 1, "Status Active": true },
      battery: { "Battery Level": 15, "Charging State": 0, "Status Low Battery": 1 },
      "play-sound": { On: false },
    });
    expect(await readAccessory(accessories["Hb's iPad"] as PlatformAccessory)).toMatchObject({
      home: { "Occupancy Detected": 0, "Status Active": true },
      battery: { "Battery Level": 50, "Charging State": 1, "Status Low Battery": 0 },
    });
    expect(await readAccessory(accessories["Hb's Mac"] as PlatformAccessory)).toMatchObject({
      battery: { "Battery Level": 0, "Charging State": 2, "Status Low Battery": 0 },
    });
    expect(await readAccessory(accessories["iCloud hb"] as PlatformAccessory)).toEqual({
      AccessoryInformation: { Manufacturer: "icloud2mqtt", Model: "iCloud account", "Serial Number": "hb" },
      "anyone-home": { "Occupancy Detected": 1 },
      "sign-in": { "Contact Sensor State": 0, "Status Fault": 0 },
      sync: { On: false },
    });
    // Names follow HAP 2's rules: HAP-NodeJS warned about none of them.
    expect(warnings.mock.calls.flat().join("\n")).not.toContain("HAP-NodeJS WARNING");

    // "Play sound": the simulator records the request; the switch turns itself off after a second.
    const phone = accessories["Hb's iPhone"] as PlatformAccessory;
    const play = service(phone, "play-sound");
    const on = play.characteristics.find((c) => c.displayName === "On");
    const sounds = () => sim.requests().filter((r) => r.route === "fmip.playSound");
    await on?.handleSetRequest(true);
    expect(sounds().map((r) => r.status)).toEqual([200]);
    expect(await value(play, "On")).toBe(true);
    await until(async () => (await value(play, "On")) === false, "the switch to turn off", 3_000);
    // A failure answers the Home app with a HAP error ("No Response") and turns the switch off.
    sim.faults.add({ endpoint: "fmip.playSound", kind: "status", status: 500, times: 5 });
    await expect(on?.handleSetRequest(true)).rejects.toBe(-70402);
    expect(await value(play, "On")).toBe(false);
    expect(first.log.lines.some((l) => /^warn Hb's iPhone: play sound failed: /.test(l))).toBe(true);
    sim.faults.clear();

    // Shutdown stops the engine (no more Find My requests) and removes the control file.
    const cache = first.platform.accessories.map((a) => hb.PlatformAccessory.serialize(a));
    first.api.signalShutdown();
    await first.platform.shutdown();
    const requests = sim.requests().length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sim.requests().length).toBe(requests);
    expect(await ControlClient.find(pluginDir)).toBeNull();
    expect(await readdir(pluginDir)).not.toContain("control.json");

    // A restart takes the accessories from the cache and the session from disk: no code asked.
    const codesBefore = sim.deviceCode(APPLE_ID);
    const restored = cache.map((json) => hb.PlatformAccessory.deserialize(json));
    const second = await startInstance(hb, config, restored);
    cleanups.push(() => second.platform.shutdown());
    expect(second.registered).toEqual([]);
    expect(second.unregistered).toEqual([]);
    expect(second.platform.accessories.map((a) => a.UUID).sort()).toEqual(restored.map((a) => a.UUID).sort());
    const again = byName(second.platform.accessories);
    // Values come from the engine's stored state at once, before iCloud answers.
    expect(await value(service(again["Hb's iPhone"] as PlatformAccessory, "battery"), "Battery Level")).toBe(15);
    await until(
      async () => (await ControlClient.find(pluginDir))?.state.accounts[0]?.state.session.state === "active",
      "the stored session",
    );
    expect(await value(service(again["iCloud hb"] as PlatformAccessory, "sign-in"), "Contact Sensor State")).toBe(0);
    expect(sim.deviceCode(APPLE_ID)).toEqual(codesBefore);
  });
});

function findmyEvery(schedule: string) {
  return { family: false, home: { latitude: 59.33, longitude: 18.07, radius: 500 }, schedule };
}
