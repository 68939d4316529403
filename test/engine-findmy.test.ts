import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../src/config/load.ts";
import { Engine } from "../src/engine/engine.ts";
import type { BridgeEvents } from "../src/engine/events.ts";
import type { FindMyAccount } from "../src/simulator/fmip/account.ts";
import { findMyProbe } from "../src/simulator/fmip/index.ts";
import { parseScenario } from "../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../src/simulator/service-modules.ts";
import { sleep } from "./mqtt-support.ts";

const APPLE_ID = "fm@example.com";
const PASSWORD = "engine-findmy-password";
const CODE = "765432";
const DSID = "20000000321";

const steady = (name: string, model: string, kind: string) => ({
  name,
  device_display_name: model,
  raw_device_model: model,
  device_class: kind,
  model_display_name: kind,
  battery_level: 0.7,
  battery_drain_per_hour: 0,
  location: { latitude: 40.7, longitude: -74, age: "1m" },
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("engine: Find My devices", () => {
  it("reports changes only, removes a device after two refreshes without it", async () => {
    const scenario = parseScenario({
      accounts: [
        {
          apple_id: APPLE_ID,
          password: PASSWORD,
          dsid: DSID,
          srp: { protocol: "s2k" as const, iterations: 1000 },
          mfa: { kind: "hsa2" as const, code: CODE },
          findmy: {
            first_name: "Fm",
            devices: [
              steady("Fm's iPhone", "iPhone16,1", "iPhone"),
              steady("Fm's iPad", "iPad13,16", "iPad"),
              steady("Fm's Mac", "Mac14,2", "MacBookPro"),
            ],
          },
        },
      ],
    });
    const sim: SimulatorHandle = await startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
    const dir = await mkdtemp(join(tmpdir(), "i2m-findmy-"));
    const { config } = await resolveConfig({
      state_dir: dir,
      accounts: [
        {
          id: "fm",
          username: APPLE_ID,
          password: PASSWORD,
          endpoint: sim.url,
          findmy: { family: false },
          photos: { enabled: false },
          calls: { enabled: false },
        },
      ],
      mqtt: { url: null, embedded_broker: { port: 0 } },
      http: { enabled: false },
    });
    const engine = new Engine({ config });
    cleanups.push(async () => {
      await engine.stop();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    });
    const updated: BridgeEvents["device.updated"][0][] = [];
    const removed: BridgeEvents["device.removed"][0][] = [];
    engine.bus.on(updated, "device.updated", (e) => void updated.push(e));
    engine.bus.on(removed, "device.removed", (e) => void removed.push(e));
    await engine.start();
    await until(() => engine.snapshot("fm").state.state === "blocked", "blocked");
    await engine.execute("mfa", { code: CODE });
    await until(() => engine.snapshot("fm").state.services.findmy.last_sync !== null, "the first refresh");
    expect(updated.map((e) => e.device.name).sort()).toEqual(["Fm's Mac", "Fm's iPad", "Fm's iPhone"]);
    const world = findMyProbe(DSID) as FindMyAccount;
    const notWoken = () => Object.values(world.woken()).every((n) => n === 0);
    expect(notWoken()).toBe(true);

    // Nothing changed.
    updated.length = 0;
    await engine.execute("sync", { data_types: ["fmip.devices"] });
    expect(updated).toEqual([]);

    // The Mac disappears: kept after one refresh without it, removed after the second.
    const macIndex = world.devices.findIndex((d) => d.spec.name === "Fm's Mac");
    const macId = world.devices[macIndex]?.spec.id;
    world.devices.splice(macIndex, 1);
    await engine.execute("sync", { data_types: ["fmip.devices"] });
    expect(removed).toEqual([]);
    expect(engine.snapshot("fm").devices).toHaveLength(3);
    await engine.execute("sync", { data_types: ["fmip.devices"] });
    expect(removed).toEqual([{ account: "fm", deviceId: macId }]);
    expect(
      engine
        .snapshot("fm")
        .devices.map((d) => d.name)
        .sort(),
    ).toEqual(["Fm's iPad", "Fm's iPhone"]);
    await engine.execute("sync", { data_types: ["fmip.devices"] });
    expect(removed).toHaveLength(1);
    expect(updated).toEqual([]);
    // Refreshes never woke a device.
    expect(notWoken()).toBe(true);

    // Commands naming a device nobody has are refused and wake nothing.
    await expect(engine.execute("locate", { device: "Nobody's Phone" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(engine.execute("play_sound", { device: "Nobody's Phone" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(notWoken()).toBe(true);
    expect(world.actions()).toEqual([]);
  });
});
