import { describe, expect, it } from "vitest";
import { FindMyAccount, SESSION_LIFESPAN_MS } from "../../../src/simulator/findmy/account.ts";
import { type DeviceState, MAX_LOCATING_TIME_MS } from "../../../src/simulator/findmy/device-state.ts";
import { parseFindMyScenario } from "../../../src/simulator/findmy/scenario.ts";

const T0 = 1_750_000_000_000;
const account = { dsid: "10000000001", appleId: "jane.doe@example.com" };
const MIN = 60_000;
const HOUR = 60 * MIN;

function world(raw: unknown = {}) {
  return new FindMyAccount(account.dsid, parseFindMyScenario(raw, account), T0);
}

function byName(w: FindMyAccount, name: string): DeviceState {
  const device = w.devices.find((d) => d.spec.name === name);
  if (device === undefined) throw new Error(`no ${name}`);
  return device;
}

const phone = {
  id: "phone-1",
  name: "Test iPhone",
  device_display_name: "iPhone 15",
  raw_device_model: "iPhone15,4",
  device_class: "iPhone",
  model_display_name: "iPhone",
  battery_level: 0.5,
  battery_drain_per_hour: 0.1,
  charging_pattern: { period: "24h", start: "2h", duration: "1h", rate_per_hour: 0.6 },
  location: { latitude: 0, longitude: 0, age: "1m" },
  route: [
    { lat: 0, lon: 0 },
    { lat: 1, lon: 0 },
  ],
  route_period: "20m",
  locate_delay: "10s",
};

describe("Find My scenario", () => {
  it("gives an empty section the default household", () => {
    const scenario = parseFindMyScenario({}, account);
    expect(scenario.firstName).toBe("Jane");
    expect(scenario.devices.map((d) => d.device_class)).toEqual([
      "iPhone",
      "iPad",
      "MacBookPro",
      "Watch",
      "Accessory",
      "iPhone",
      "iPhone",
    ]);
    expect(scenario.devices.find((d) => d.device_class === "Accessory")?.location).toBeNull();
    expect(scenario.devices.filter((d) => d.online !== "200")).toHaveLength(1);
    expect(scenario.family).toEqual([expect.objectContaining({ prs_id: "20000000002", loading_refreshes: 1 })]);
    expect(new Set(scenario.devices.map((d) => d.id)).size).toBe(scenario.devices.length);
    expect(parseFindMyScenario(undefined, account).devices.map((d) => d.id)).toEqual(scenario.devices.map((d) => d.id));
  });

  it("rejects unknown fields, bad durations and unknown owners", () => {
    expect(() => parseFindMyScenario({ devices: [{ ...phone, colour: "red" }] }, account)).toThrow();
    expect(() => parseFindMyScenario({ devices: [{ ...phone, locate_delay: "soon" }] }, account)).toThrow();
    expect(() => parseFindMyScenario({ devices: [{ ...phone, owner: "123" }] }, account)).toThrow(/unknown family/);
  });
});

describe("simulated device", () => {
  it("moves along its route with the clock and answers a locate after locate_delay", () => {
    const w = world({ devices: [phone] });
    const device = byName(w, "Test iPhone");
    expect(device.fix).toEqual({ latitude: expect.closeTo(0.1, 6), longitude: 0, timeStamp: T0 - MIN });
    expect(device.positionAt(T0 + 5 * MIN)).toEqual({ latitude: 0.5, longitude: 0 });
    expect(device.positionAt(T0 + 15 * MIN)).toEqual({ latitude: 0.5, longitude: 0 });

    device.requestLocate(T0 + 5 * MIN);
    device.settle(T0 + 5 * MIN + 9_999, true);
    expect(device.locatingSince).toBe(T0 + 5 * MIN);
    expect(device.fix?.timeStamp).toBe(T0 - MIN);
    device.settle(T0 + 6 * MIN, true);
    expect(device.locatingSince).toBeNull();
    expect(device.fix).toEqual({ latitude: expect.closeTo(0.5167, 3), longitude: 0, timeStamp: T0 + 5 * MIN + 10_000 });
    expect(device.woken).toBe(1);
  });

  it("delivers the fresh fix only to an answer that asked for the locate; unasked, the locate lapses", () => {
    const device = byName(world({ devices: [phone] }), "Test iPhone");
    const cached = device.fix;
    device.requestLocate(T0);
    // Plain refreshes after locate_delay: Apple keeps answering with the cached fix.
    device.settle(T0 + 10_000, false);
    device.settle(T0 + MAX_LOCATING_TIME_MS - 1, false);
    expect(device.locatingSince).toBe(T0);
    expect(device.fix).toBe(cached);
    // A follow-up locate request of the same device gets it (and counts as a request).
    device.requestLocate(T0 + 20_000);
    expect(device.locatingSince).toBe(T0);
    expect(device.woken).toBe(2);
    device.settle(T0 + 20_000, true);
    expect(device.locatingSince).toBeNull();
    expect(device.fix?.timeStamp).toBe(T0 + 10_000);

    const other = byName(world({ devices: [phone] }), "Test iPhone");
    const before = other.fix;
    other.requestLocate(T0);
    other.settle(T0 + MAX_LOCATING_TIME_MS, false);
    expect(other.locatingSince).toBeNull();
    expect(other.fix).toBe(before);
  });

  it("keeps an offline device's old fix and gives up after maxLocatingTime", () => {
    const w = world({ devices: [{ ...phone, online: 201 }] });
    const device = byName(w, "Test iPhone");
    const before = device.fix;
    device.requestLocate(T0);
    device.settle(T0 + MAX_LOCATING_TIME_MS - 1, true);
    expect(device.locatingSince).toBe(T0);
    device.settle(T0 + MAX_LOCATING_TIME_MS, true);
    expect(device.locatingSince).toBeNull();
    expect(device.fix).toBe(before);
  });

  it("never starts a locate on a device that cannot be located, but counts the request", () => {
    const w = world({ devices: [{ ...phone, location: null, route: undefined, location_capable: false }] });
    const device = byName(w, "Test iPhone");
    device.requestLocate(T0);
    expect(device.locatingSince).toBeNull();
    expect(device.woken).toBe(1);
    expect(device.fix).toBeNull();
  });

  it("drains, then charges inside the charging window", () => {
    const device = byName(world({ devices: [phone] }), "Test iPhone");
    expect(device.batteryAt(T0 + HOUR)).toBeCloseTo(0.4, 6);
    expect(device.batteryStatusAt(T0 + HOUR)).toBe("NotCharging");
    expect(device.batteryAt(T0 + 2.5 * HOUR)).toBeCloseTo(0.6, 6);
    expect(device.batteryStatusAt(T0 + 2.5 * HOUR)).toBe("Charging");
    expect(device.batteryAt(T0 + 4 * HOUR)).toBeCloseTo(0.8, 6);
    expect(device.batteryAt(T0 + 30 * HOUR)).toBeGreaterThanOrEqual(0);
  });
});

describe("simulated account", () => {
  it("reports family members LOADING on the first answer of a session, then their devices", () => {
    const w = world();
    const lookup = w.session("cookies-a", T0, true);
    if (!lookup.ok) throw new Error("no session");
    const first = w.envelope(lookup.session, T0, true) as {
      userInfo: { membersInfo: Record<string, { deviceFetchStatus: string }> };
      content: { prsId: string | null }[];
    };
    expect(first.userInfo.membersInfo["20000000002"]?.deviceFetchStatus).toBe("LOADING");
    expect(first.content.some((d) => d.prsId !== null)).toBe(false);
    const second = w.envelope(lookup.session, T0 + 1000, true) as typeof first;
    expect(second.userInfo.membersInfo["20000000002"]?.deviceFetchStatus).toBe("DONE");
    expect(second.content.filter((d) => d.prsId === "20000000002")).toHaveLength(1);
    const withoutFamily = w.envelope(lookup.session, T0 + 2000, false) as typeof first;
    expect(withoutFamily.content.some((d) => d.prsId !== null)).toBe(false);
  });

  it("ends a Find My session 15 minutes after it started, per web session", () => {
    const w = world();
    expect(w.session("cookies-a", T0, true).ok).toBe(true);
    expect(w.session("cookies-a", T0 + SESSION_LIFESPAN_MS - 1, false).ok).toBe(true);
    expect(w.session("cookies-a", T0 + SESSION_LIFESPAN_MS, false).ok).toBe(false);
    expect(w.session("cookies-a", T0 + SESSION_LIFESPAN_MS, true).ok).toBe(false);
    expect(w.session("cookies-b", T0 + SESSION_LIFESPAN_MS, true).ok).toBe(true);
    expect(w.initClients()).toBe(2);
  });

  it("locates only the selected device", () => {
    const w = world();
    const iphone = byName(w, "Jane's iPhone");
    w.locate(iphone.spec.id, true, T0);
    expect(Object.values(w.woken()).reduce((a, b) => a + b, 0)).toBe(1);
    expect(w.woken()[iphone.spec.id]).toBe(1);
    w.locate("all", false, T0);
    expect(byName(w, "John's iPhone").woken).toBe(0);
    expect(byName(w, "Jane's iPad").woken).toBe(1);
  });
});
