import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../src/engine/events.ts";
import type { FindMyAccount } from "../../src/simulator/findmy/account.ts";
import { findMyProbe } from "../../src/simulator/findmy/index.ts";
import { engineHarness, enterCode, steadyDevice } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const DSID = "20000000321";
const ACCOUNT: TestAccount = {
  appleId: "fm@example.com",
  password: "engine-findmy-password",
  code: "765432",
  dsid: DSID,
};

const steady = (name: string, model: string, kind: string) =>
  steadyDevice(name, model, kind, 0.7, { latitude: 40.7, longitude: -74, age: "1m" });

afterEach(cleanUp);

describe("engine: Find My devices", () => {
  it("reports changes only, removes a device after two refreshes without it", async () => {
    const { engine } = await engineHarness({
      account: ACCOUNT,
      spec: {
        findmy: {
          first_name: "Fm",
          devices: [
            steady("Fm's iPhone", "iPhone16,1", "iPhone"),
            steady("Fm's iPad", "iPad13,16", "iPad"),
            steady("Fm's Mac", "Mac14,2", "MacBookPro"),
          ],
        },
      },
      dirPrefix: "i2m-findmy-",
      id: "fm",
      settings: { findmy: { family: false }, photos: { enabled: false }, calls: { enabled: false } },
    });
    const updated: EngineEvents["device.updated"][0][] = [];
    const removed: EngineEvents["device.removed"][0][] = [];
    engine.bus.on(updated, "device.updated", (e) => void updated.push(e));
    engine.bus.on(removed, "device.removed", (e) => void removed.push(e));
    await engine.start();
    await enterCode(engine, "fm", ACCOUNT.code);
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
    expect(engine.snapshot("fm").findmy.devices).toHaveLength(3);
    await engine.execute("sync", { data_types: ["fmip.devices"] });
    expect(removed).toEqual([{ account: "fm", deviceId: macId, slug: "fm_s_mac" }]);
    expect(
      engine
        .snapshot("fm")
        .findmy.devices.map((d) => d.name)
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
