import { parseScenario, SIMULATOR_SERVICES, type SimulatorHandle, startSimulator } from "icloud2mqtt/testing";

/** The simulated Apple ID the plugin's tests sign in to (two-factor with a fixed code). */
export const APPLE_ID = "hb@example.com";
export const PASSWORD = "homebridge-password";
export const CODE = "135790";
/** Where the simulated devices are, and the home the tests configure around them. */
export const HOME = { latitude: 59.33, longitude: 18.07 };

/** A simulated Find My device that neither drains nor moves. */
export function simDevice(name: string, kind: string, battery: number | null, extra: Record<string, unknown> = {}) {
  return {
    name,
    device_display_name: kind,
    raw_device_model: `${kind}1,1`,
    device_class: kind,
    model_display_name: kind,
    battery_level: battery,
    battery_drain_per_hour: 0,
    location: { latitude: HOME.latitude, longitude: HOME.longitude, age: "2m" },
    ...extra,
  };
}

/**
 * The simulator with one two-factor account: an iPhone at home with a low battery, an iPad far away
 * and charging, a Mac without a battery report, and an AirTag whose name HomeKit would refuse.
 */
export function startTestSimulator(): Promise<SimulatorHandle> {
  return startSimulator({
    port: 0,
    services: [...SIMULATOR_SERVICES],
    scenario: parseScenario({
      accounts: [
        {
          apple_id: APPLE_ID,
          password: PASSWORD,
          srp: { protocol: "s2k", iterations: 1000 },
          mfa: {
            kind: "hsa2",
            code: CODE,
            trusted_devices: [{ name: "Hb's iPhone" }],
            trusted_phone_numbers: [{ id: 1, number: "+46 •• ••• •• 58" }],
          },
          findmy: {
            first_name: "Hb",
            devices: [
              simDevice("Hb's iPhone", "iPhone", 0.15),
              simDevice("Hb's iPad", "iPad", 0.5, {
                location: { latitude: 48.85, longitude: 2.35, age: "2m" },
                charging_pattern: { period: "24h", start: "0h", duration: "12h", rate_per_hour: 0.001 },
              }),
              simDevice("Hb's Mac", "MacBookPro", null),
              simDevice("🔑 Keys (AirTag)", "AirTag", 0.9),
            ],
          },
        },
      ],
    }),
  });
}

/** The plugin's account configuration for the simulated Apple ID. */
export function testAccount(sim: SimulatorHandle, extra: Record<string, unknown> = {}) {
  return {
    id: "hb",
    username: APPLE_ID,
    password: PASSWORD,
    endpoint: sim.url,
    findmy: { family: false, home: { ...HOME, radius: 500 } },
    photos: { enabled: false },
    calls: { enabled: false },
    ...extra,
  };
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
