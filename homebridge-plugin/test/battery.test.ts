import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine, EngineError, type FmipDevice } from "icloud2mqtt/engine";
import { parseScenario, SIMULATOR_SERVICES, startSimulator } from "icloud2mqtt/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batteryValues, CHARGING_STATE, describeError, LOW_BATTERY } from "../src/index.ts";

const CODE = "135790";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A simulated Find My device that neither drains nor moves. */
function device(name: string, kind: string, battery: number | null, extra: Record<string, unknown> = {}) {
  return {
    name,
    device_display_name: kind,
    raw_device_model: `${kind}1,1`,
    device_class: kind,
    model_display_name: kind,
    battery_level: battery,
    battery_drain_per_hour: 0,
    location: { latitude: 59.33, longitude: 18.07, age: "2m" },
    ...extra,
  };
}

/** The engine signed in to a simulated account with three devices, after its first Find My refresh. */
async function signedInEngine(): Promise<Engine> {
  const sim = await startSimulator({
    port: 0,
    services: [...SIMULATOR_SERVICES],
    scenario: parseScenario({
      accounts: [
        {
          apple_id: "hb@example.com",
          password: "homebridge-password",
          srp: { protocol: "s2k", iterations: 1000 },
          mfa: { kind: "hsa2", code: CODE },
          findmy: {
            first_name: "Hb",
            devices: [
              device("Hb's iPhone", "iPhone", 0.15),
              // Charging from the simulator's start for 12 hours of every 24.
              device("Hb's iPad", "iPad", 0.5, {
                charging_pattern: { period: "24h", start: "0h", duration: "12h", rate_per_hour: 0.001 },
              }),
              device("Hb's Mac", "MacBookPro", null),
            ],
          },
        },
      ],
    }),
  });
  cleanups.push(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), "i2m-homebridge-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const engine = new Engine({
    stateDir: dir,
    accounts: [
      {
        id: "hb",
        username: "hb@example.com",
        password: "homebridge-password",
        endpoint: sim.url,
        findmy: { family: false },
        photos: { enabled: false },
        calls: { enabled: false },
      },
    ],
  });
  cleanups.push(() => engine.stop());
  await engine.start();
  await until(() => engine.snapshot("hb").state.state === "blocked", "the code request");
  await engine.execute("mfa", { code: CODE });
  await until(() => engine.snapshot("hb").state.services.findmy.last_sync !== null, "the first Find My refresh");
  return engine;
}

describe("batteryValues on the engine's Find My devices", () => {
  it("maps level, charging and low battery; a device without a battery report is not chargeable", async () => {
    const engine = await signedInEngine();
    const byName = Object.fromEntries(engine.snapshot("hb").findmy.devices.map((d) => [d.name, batteryValues(d)]));
    expect(byName).toEqual({
      "Hb's iPhone": { level: 15, chargingState: CHARGING_STATE.NOT_CHARGING, lowBattery: LOW_BATTERY.LOW },
      "Hb's iPad": { level: 50, chargingState: CHARGING_STATE.CHARGING, lowBattery: LOW_BATTERY.NORMAL },
      "Hb's Mac": { level: null, chargingState: CHARGING_STATE.NOT_CHARGEABLE, lowBattery: LOW_BATTERY.NORMAL },
    });

    // A command the engine refuses gives one readable log line.
    const refused = await engine.execute("locate", { device: "Nobody's Phone" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(describeError(refused)).toMatch(/^NOT_FOUND: .*Nobody's Phone.* \(needs your attention\)$/);
  });
});

describe("batteryValues", () => {
  const phone = { battery_percent: 20, charging: null } as const;
  const at = (values: Partial<Pick<FmipDevice, "battery_percent" | "charging">>) =>
    batteryValues({ ...phone, ...values } as FmipDevice, 20);

  it("counts the threshold itself as low and unknown charging as not charging", () => {
    expect(at({})).toEqual({ level: 20, chargingState: 0, lowBattery: 1 });
    expect(at({ battery_percent: 21, charging: false })).toEqual({ level: 21, chargingState: 0, lowBattery: 0 });
    expect(at({ battery_percent: 100, charging: true })).toEqual({ level: 100, chargingState: 1, lowBattery: 0 });
  });
});

describe("describeError", () => {
  it("says whether the engine retries by itself", () => {
    const limited = new EngineError("RATE_LIMITED", "Apple asks to slow down", { info: { retry_after: 60 } });
    expect(describeError(limited)).toBe("RATE_LIMITED: Apple asks to slow down (retrying in 60 s)");
    expect(describeError(new EngineError("NETWORK", "connection refused"))).toBe(
      "NETWORK: connection refused (retrying)",
    );
    expect(describeError(new EngineError("INVALID_CREDENTIALS", "wrong password"))).toBe(
      "INVALID_CREDENTIALS: wrong password (needs your attention)",
    );
    expect(describeError(new Error("socket hang up"))).toBe("UNEXPECTED_RESPONSE: socket hang up (retrying)");
  });
});
