import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ICloudSession } from "../../../src/icloud/session.ts";
import { createFindMyRoutes } from "../../../src/simulator/findmy/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { account, startSim } from "../../support/harness.ts";
import { openSession } from "../../support/simulator.ts";

/** The simulator's Find My endpoints at the wire level, spoken through the real iCloud session. */

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const ID = "sam@example.com";
const BASE = "/fmipservice/client/web";

interface AppleDevice {
  id: string;
  name: string;
  isLocating: boolean;
  batteryLevel: number;
  batteryStatus: string;
  deviceStatus: string;
  snd: { statusCode: string; createTimestamp: number } | null;
  msg: Record<string, unknown> | null;
  lostDevice: Record<string, unknown> | null;
  lostModeEnabled: boolean;
  location: {
    latitude: number;
    longitude: number;
    timeStamp: number;
    locationFinished: boolean;
    isOld: boolean;
  } | null;
}
interface Envelope {
  statusCode: string;
  serverContext: Record<string, unknown>;
  userInfo: { membersInfo: Record<string, { deviceFetchStatus: string }>; hasMembers: boolean };
  content: AppleDevice[];
}

const bike = {
  id: "bike-tag",
  name: "Sam's iPhone",
  device_display_name: "iPhone 13",
  raw_device_model: "iPhone14,5",
  device_class: "iPhone",
  model_display_name: "iPhone",
  battery_level: 0.5,
  battery_drain_per_hour: 0.1,
  location: { latitude: 10, longitude: 20, age: "1m" },
  route: [
    { lat: 10, lon: 20 },
    { lat: 11, lon: 20 },
  ],
  route_period: "20m",
  locate_delay: "10s",
};
const tablet = { ...bike, id: "tablet", name: "Sam's iPad", route: undefined, device_class: "iPad", owner: "300" };
const findmy = {
  devices: [bike, tablet],
  family: [{ prs_id: "300", first_name: "Kim", last_name: "Lee", apple_id: "kim@example.com", loading_refreshes: 2 }],
};

let sim: SimulatorHandle | undefined;
let session: ICloudSession;
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
  sim = await startSim(parseScenario({ accounts: [account(ID, { mfa: { kind: "none" }, findmy })] }), {
    services: [createFindMyRoutes],
    closeAtCleanup: false,
  });
  session = await openSession(sim, ID);
  expect((await session.signIn()).state).toBe("active");
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  vi.useRealTimers();
});

async function call(path: string, body: unknown): Promise<{ status: number; json: Envelope }> {
  const response = await session.request("findme", `${BASE}/${path}`, { method: "POST", body, reauthOn: [] });
  return { status: response.status, json: response.json as Envelope };
}

const device = (envelope: Envelope, id: string): AppleDevice => {
  const found = envelope.content.find((entry) => entry.id === id);
  if (found === undefined) throw new Error(`no ${id}`);
  return found;
};

describe("simulated Find My endpoints", () => {
  it("answers 450 without an iCloud web session", async () => {
    const handle = sim as SimulatorHandle;
    const response = await fetch(`${handle.url}${BASE}/refreshClient?dsid=1`, { method: "POST", body: "{}" });
    expect(response.status).toBe(450);
  });

  it("serves the envelope, with family devices after their LOADING answers", async () => {
    const ctx = { fmly: true };
    const first = (await call("initClient", { clientContext: ctx })).json;
    expect(first.statusCode).toBe("200");
    expect(first.serverContext).toMatchObject({
      callbackIntervalInMS: 2000,
      minCallbackIntervalInMS: 5000,
      maxLocatingTime: 90000,
      sessionLifespan: 900000,
      serverTimestamp: T0,
      prsId: expect.any(Number),
    });
    expect(first.userInfo.hasMembers).toBe(true);
    expect(first.userInfo.membersInfo["300"]?.deviceFetchStatus).toBe("LOADING");
    expect(first.content.map((entry) => entry.id)).toEqual(["bike-tag"]);
    const serverContext = first.serverContext;
    const second = (await call("refreshClient", { clientContext: ctx, serverContext })).json;
    expect(second.userInfo.membersInfo["300"]?.deviceFetchStatus).toBe("LOADING");
    const third = (await call("refreshClient", { clientContext: ctx, serverContext })).json;
    expect(third.userInfo.membersInfo["300"]?.deviceFetchStatus).toBe("DONE");
    expect(third.content.map((entry) => entry.id)).toEqual(["bike-tag", "tablet"]);
    expect(device(third, "bike-tag")).toMatchObject({
      batteryLevel: 0.5,
      batteryStatus: "NotCharging",
      deviceStatus: "200",
      isLocating: false,
      location: { latitude: 10.1, longitude: 20, timeStamp: T0 - 60_000, locationFinished: true, isOld: false },
    });
  });

  it("locates like Apple: cached fix first, fresh fix after locate_delay to a locate poll, then cached again", async () => {
    const handle = sim as SimulatorHandle;
    const locate = { fmly: true, shouldLocate: true, selectedDevice: "all", deviceListVersion: 1 };
    handle.clock.advance(5 * 60_000);
    const asked = (await call("refreshClient", { clientContext: locate })).json;
    expect(device(asked, "bike-tag")).toMatchObject({
      isLocating: true,
      location: { latitude: 10.1, timeStamp: T0 - 60_000, locationFinished: false },
    });
    handle.clock.advance(9_000);
    const early = (await call("refreshClient", { clientContext: locate })).json;
    expect(device(early, "bike-tag").location?.locationFinished).toBe(false);
    handle.clock.advance(1_000);
    // A plain refresh after locate_delay still gets the cached fix (timlaing/pyicloud#360) ...
    const plain = (await call("refreshClient", { clientContext: { fmly: true } })).json;
    expect(device(plain, "bike-tag")).toMatchObject({
      isLocating: true,
      location: { latitude: 10.1, timeStamp: T0 - 60_000, locationFinished: false },
    });
    // ... and so does a locate of another device.
    const tabletOnly = { ...locate, selectedDevice: "tablet" };
    const elsewhere = (await call("refreshClient", { clientContext: tabletOnly })).json;
    expect(device(elsewhere, "bike-tag").location).toMatchObject({ timeStamp: T0 - 60_000, locationFinished: false });
    // Only a poll that asks for this device's locate gets the fresh fix.
    const bikeOnly = { ...locate, selectedDevice: "bike-tag" };
    const done = (await call("refreshClient", { clientContext: bikeOnly })).json;
    expect(device(done, "bike-tag")).toMatchObject({
      isLocating: false,
      location: { timeStamp: T0 + 5 * 60_000 + 10_000, locationFinished: true },
    });
    expect(device(done, "bike-tag").location?.latitude).toBeCloseTo(10 + 310 / 600, 6);
    handle.clock.advance(3 * 60_000);
    const later = (await call("refreshClient", { clientContext: { fmly: true } })).json;
    expect(device(later, "bike-tag").location).toEqual(device(done, "bike-tag").location);
    expect(device(later, "bike-tag").batteryLevel).toBeCloseTo(0.5 - (8 * 60_000 + 10_000) / 3_600_000 / 10, 6);
  });

  it("records actions on the device and refuses unknown devices and bad bodies", async () => {
    const played = await call("playSound", { device: "bike-tag", subject: "Find My iPhone Alert" });
    expect(played.status).toBe(200);
    expect(device(played.json, "bike-tag").snd).toEqual({
      subject: "Find My iPhone Alert",
      statusCode: "200",
      createTimestamp: T0,
    });
    const lost = await call("lostDevice", {
      device: "bike-tag",
      text: "Lost",
      ownerNbr: "+1555",
      lostModeEnabled: true,
    });
    expect(device(lost.json, "bike-tag")).toMatchObject({
      lostModeEnabled: true,
      lostDevice: { text: "Lost", ownerNbr: "+1555", statusCode: "200", createTimestamp: T0 },
    });
    expect((await call("sendMessage", { device: "nope", text: "hi" })).status).toBe(400);
    expect((await call("sendMessage", { device: "bike-tag" })).status).toBe(400);
  });
});
