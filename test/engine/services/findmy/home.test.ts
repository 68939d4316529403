import { describe, expect, it } from "vitest";
import { distanceMetres, withHome } from "../../../../src/engine/services/findmy/home.ts";
import { appleDeviceDiscovery } from "../../../../src/engine/services/findmy/mqtt-discovery.ts";
import { Topics } from "../../../../src/mqtt/topics.ts";
import { device } from "../../../support/mqtt.ts";

const HOME = { latitude: 52.37, longitude: 4.89, radius: 100 };

describe("home / away", () => {
  it("measures great-circle distances", () => {
    expect(distanceMetres({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 1 })).toBeCloseTo(111_195, -1);
    expect(distanceMetres(HOME, HOME)).toBe(0);
  });

  it("marks a device inside the radius as home, outside as away, without a fix as unknown", () => {
    const base = device("d1", "Jane's iPhone");
    const at = (latitude: number, longitude: number) => ({
      ...base,
      location: { ...base.location!, latitude, longitude },
    });
    expect(withHome(at(52.3705, 4.89), HOME).at_home).toBe(true); // ~56 m
    expect(withHome(at(52.372, 4.89), HOME).at_home).toBe(false); // ~222 m
    expect(withHome({ ...base, location: null }, HOME).at_home).toBeNull();
    expect(withHome(base, null)).toBe(base);
    expect("at_home" in withHome(base, null)).toBe(false);
  });

  it("adds a presence sensor to the discovery only when home is configured", () => {
    const topics = new Topics("icloud2mqtt", "homeassistant");
    const plain = appleDeviceDiscovery(topics, "0.1.0", "jane", device("d1", "iPad"));
    expect(Object.keys(plain.cmps)).not.toContain("home");
    const withPresence = appleDeviceDiscovery(topics, "0.1.0", "jane", { ...device("d1", "iPad"), at_home: true });
    expect(withPresence.cmps["home"]).toMatchObject({
      p: "binary_sensor",
      device_class: "presence",
      state_topic: "icloud2mqtt/jane/devices/d1",
      unique_id: "icloud2mqtt_device_jane_d1_home",
    });
  });
});
