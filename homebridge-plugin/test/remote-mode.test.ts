import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlatformAccessory } from "homebridge";
import { ConfigSchema, startBridge } from "icloud2mqtt";
import { silentLogger } from "icloud2mqtt/engine";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ControlClient } from "../src/control/control-client.ts";
import { HOMEBRIDGE_PACKAGES, loadHomebridge, startInstance } from "./support/homebridge.ts";
import { service, value } from "./support/read.ts";
import { CODE, startTestSimulator, testAccount, until } from "./support/simulator.ts";

/**
 * Connected mode: the plugin on a running icloud2mqtt (`startBridge` with its embedded broker, against
 * the simulator) through `RemoteEngine`; the code reaches the bridge through the plugin's loopback API.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let storage: string;
let hb: Awaited<ReturnType<typeof loadHomebridge>>;
beforeAll(async () => {
  storage = await mkdtemp(join(tmpdir(), "i2m-hb-remote-"));
  hb = await loadHomebridge(HOMEBRIDGE_PACKAGES[1]);
  hb.User.setStoragePath(join(storage, "homebridge"));
});
afterAll(() => rm(storage, { recursive: true, force: true }));

describe("connected mode (mqtt)", () => {
  it("shows the bridge's devices and accounts, takes the code and plays a sound over MQTT", async () => {
    const sim = await startTestSimulator();
    cleanups.push(() => sim.close());
    const bridge = await startBridge({
      logger: silentLogger,
      config: ConfigSchema.parse({
        accounts: [testAccount(sim)],
        mqtt: { embedded_broker: { port: 0 } },
        http: { enabled: false },
        state_dir: join(storage, "bridge"),
      }),
    });
    cleanups.push(() => bridge.stop());
    const url = bridge.broker?.url;
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);

    const { platform, log } = await startInstance(hb, { mode: "mqtt", mqtt: { url } });
    cleanups.push(() => platform.shutdown());
    const control = await ControlClient.find(join(storage, "homebridge", "icloud2mqtt"));
    expect(control?.state.mode).toBe("mqtt");
    await until(
      async () => (await control?.client.state())?.accounts[0]?.state.state === "blocked",
      "the code request",
    );
    await control?.client.execute("mfa", { account: "hb", code: CODE });
    await until(() => platform.accessories.length === 5, "the devices over MQTT");

    const phone = platform.accessories.find((a) => a.displayName === "Hb's iPhone") as PlatformAccessory;
    expect(await value(service(phone, "battery"), "Battery Level")).toBe(15);
    expect(await value(service(phone, "home"), "Occupancy Detected")).toBe(1);
    await service(phone, "play-sound").getCharacteristic("On")?.handleSetRequest(true);
    expect(
      sim
        .requests()
        .filter((r) => r.route === "fmip.playSound")
        .map((r) => r.status),
    ).toEqual([200]);
    expect(log.lines.filter((l) => l.startsWith("error"))).toEqual([]);
  });

  it("keeps trying while no bridge answers, and stops at once on shutdown", async () => {
    const { platform, log } = await startInstance(
      hb,
      { mode: "mqtt", mqtt: { url: "mqtt://127.0.0.1:1" } },
      [],
      {},
      false,
    );
    await until(() => log.lines.some((l) => l.includes("cannot reach icloud2mqtt")), "the first failure");
    const started = Date.now();
    await platform.shutdown();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log.lines.find((l) => l.includes("cannot reach icloud2mqtt"))).toMatch(
      /^warn cannot reach icloud2mqtt over MQTT: BRIDGE_OFFLINE: .* trying again in 5 s$/,
    );
  });
});
