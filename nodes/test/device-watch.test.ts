import { fakeDevice } from "icloud2mqtt/testing";
import { describe, expect, it } from "vitest";
import { DeviceWatch, deviceStatus, timeAgo } from "../src/index.ts";

const phone = (battery: number, at_home?: boolean | null) => ({
  ...fakeDevice("d1", "Jane's iPhone", battery),
  at_home,
});

describe("DeviceWatch", () => {
  it("passes every change of the chosen device, by name (any case) or id", () => {
    const byName = new DeviceWatch("jane's IPHONE", { kind: "change" });
    expect(byName.update(phone(50))).toBe(true);
    expect(byName.update({ ...fakeDevice("d2", "Jane's iPad") })).toBe(false);
    expect(new DeviceWatch("d1", { kind: "change" }).update(phone(50))).toBe(true);
    expect(new DeviceWatch("", { kind: "change" }).update(fakeDevice("d9", "Any"))).toBe(true);
  });

  it("passes home/away changes only, ignoring fixes without a side", () => {
    const watch = new DeviceWatch("", { kind: "home" });
    watch.seed([phone(80, true)]);
    expect(watch.update(phone(70, true))).toBe(false);
    expect(watch.update(phone(70, null))).toBe(false);
    expect(watch.update(phone(70, true))).toBe(false);
    expect(watch.update(phone(70, false))).toBe(true);
    expect(watch.update(phone(60, false))).toBe(false);
    expect(watch.update(phone(60, true))).toBe(true);
    // A device first seen after the start has no side to change from.
    expect(new DeviceWatch("", { kind: "home" }).update(phone(60, true))).toBe(false);
  });

  it("passes a battery dropping below the threshold once, again after a recharge", () => {
    const watch = new DeviceWatch("", { kind: "battery", below: 20 });
    watch.seed([phone(35)]);
    expect(watch.update(phone(25))).toBe(false);
    expect(watch.update(phone(19))).toBe(true);
    expect(watch.update(phone(12))).toBe(false);
    expect(watch.update(phone(60))).toBe(false);
    expect(watch.update(phone(15))).toBe(true);
    // Already low when first heard of: say so once.
    expect(new DeviceWatch("", { kind: "battery", below: 20 }).update(phone(5))).toBe(true);
    watch.forget("d1");
    expect(watch.update(phone(10))).toBe(true);
  });
});

describe("device status", () => {
  const now = Date.parse("2026-01-01T10:03:30Z");
  it("reads battery, home and the time since the fix", () => {
    expect(deviceStatus(phone(57, true), now)).toEqual({ fill: "green", shape: "dot", text: "57% · home · 3 min ago" });
    expect(deviceStatus({ ...phone(57, false), charging: true }, now).text).toBe("57%+ · away · 3 min ago");
    expect(deviceStatus({ ...phone(57), online: false, last_located: null, location: null }, now)).toEqual({
      fill: "green",
      shape: "ring",
      text: "57% · no location",
    });
  });

  it("says how long ago in minutes, hours and days", () => {
    const at = "2026-01-01T10:00:00Z";
    expect(timeAgo(at, Date.parse(at) + 30_000)).toBe("just now");
    expect(timeAgo(at, Date.parse(at) + 59 * 60_000)).toBe("59 min ago");
    expect(timeAgo(at, Date.parse(at) + 5 * 3_600_000)).toBe("5 h ago");
    expect(timeAgo(at, Date.parse(at) + 72 * 3_600_000)).toBe("3 d ago");
  });
});
