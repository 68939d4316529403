import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isEngineError } from "../../../src/errors.ts";
import { FindMyService, type FindMyServiceOptions } from "../../../src/icloud/findmy/find-my-service.ts";
import type { FmipDevice } from "../../../src/icloud/findmy/types.ts";
import type { ServiceTransport } from "../../../src/icloud/service-transport.ts";
import type { ICloudSession } from "../../../src/icloud/session.ts";
import { createFindMyRoutes, defaultFindMyScenario, findMyProbe } from "../../../src/simulator/findmy/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { account, startSim } from "../../support/harness.ts";
import { bindingRecorder } from "../../support/logger.ts";
import { openSession } from "../../support/simulator.ts";

const T0 = Date.parse("2026-03-02T08:00:00.000Z");
const MIN = 60_000;
const ID = "jane.doe@example.com";

let sim: SimulatorHandle | undefined;
beforeEach(() => {
  // The simulator runs in this process: freezing Date makes its clock exact (T0 + advances).
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  vi.useRealTimers();
});

interface Sent {
  path: string;
  body: Record<string, unknown>;
  idempotent: boolean | undefined;
}

interface Setup {
  sim: SimulatorHandle;
  session: ICloudSession;
  service: FindMyService;
  dsid: string;
  slept: number[];
  /** What the service asked the transport for, in order. */
  sent: Sent[];
}

/** The session as the service's transport, recording each request. */
function recording(session: ICloudSession, sent: Sent[]): ServiceTransport {
  return {
    serviceUrl: (name) => session.serviceUrl(name),
    download: (url, options) => session.download(url, options),
    request: (service, path, options = {}) => {
      const body = (options.body ?? {}) as Record<string, unknown>;
      sent.push({ path: path.split("/").pop() ?? path, body, idempotent: options.idempotent });
      return session.request(service, path, options);
    },
  };
}

/** The clientContext locate fields of each refresh sent, e.g. "refreshClient <id>" or "refreshClient -". */
function locates(sent: readonly Sent[]): string[] {
  return sent
    .filter((entry) => entry.path === "initClient" || entry.path === "refreshClient")
    .map((entry) => {
      const context = (entry.body["clientContext"] ?? {}) as Record<string, unknown>;
      const target = context["shouldLocate"] === true ? String(context["selectedDevice"]) : "-";
      return `${entry.path} ${target}`;
    });
}

async function setup(findmy?: unknown, options: FindMyServiceOptions = {}): Promise<Setup> {
  const extra = { mfa: { kind: "none" as const }, ...(findmy === undefined ? {} : { findmy }) };
  const started = await startSim(parseScenario({ accounts: [account(ID, extra)] }), {
    services: [createFindMyRoutes],
    closeAtCleanup: false,
  });
  sim = started;
  const session = await openSession(started, ID);
  expect((await session.signIn()).state).toBe("active");
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
    started.clock.advance(ms);
  };
  const sent: Sent[] = [];
  const service = new FindMyService(recording(session, sent), { sleep, ...options });
  const dsid = started.world.accounts.byAppleId(ID)?.dsid ?? "";
  return { sim: started, session, service, dsid, slept, sent };
}

function named(devices: FmipDevice[], name: string): FmipDevice {
  const device = devices.find((candidate) => candidate.name === name);
  if (device === undefined) throw new Error(`no device ${name}`);
  return device;
}

function fmipRoutes(handle: SimulatorHandle): string[] {
  return handle
    .requests()
    .filter((record) => record.route?.startsWith("fmip."))
    .map((record) => `${record.route} ${record.status}`);
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("FindMyService against the simulator", () => {
  it("lists the household as fmip.device, waiting for the family member's devices", async () => {
    const { service, sim, dsid, slept } = await setup();
    const devices = await service.devices();
    expect(devices.map((device) => device.name)).toEqual([
      "Jane's iPhone",
      "Jane's iPad",
      "Jane's MacBook Pro",
      "Jane's Apple Watch",
      "Jane's AirPods Pro",
      "Jane's old iPhone",
      "John's iPhone",
    ]);
    expect(fmipRoutes(sim)).toEqual(["fmip.initClient 200", "fmip.refreshClient 200"]);
    expect(slept).toEqual([5000]);

    const old = named(devices, "Jane's old iPhone");
    expect(old).toEqual({
      id: old.id,
      data_type: "fmip.device",
      name: "Jane's old iPhone",
      model_name: "iPhone 8",
      model_identifier: "iPhone10,1",
      product_type: "iPhone",
      location: {
        data_type: "location",
        latitude: 51.4613,
        longitude: -0.3037,
        altitude: 0,
        horizontal_accuracy: 65,
        vertical_accuracy: 0,
        positioning_type: "Wifi",
        date_created: iso(T0 - 3 * 24 * 60 * MIN),
      },
      battery_status: "NotCharging",
      battery_level: 0.12,
      battery_percent: 12,
      charging: false,
      low_power_mode: false,
      online: false,
      device_status: "201",
      location_capable: true,
      location_stale: true,
      locating: false,
      owner: null,
      last_located: iso(T0 - 3 * 24 * 60 * MIN),
    });

    expect(named(devices, "Jane's AirPods Pro")).toMatchObject({
      location: null,
      last_located: null,
      location_capable: false,
      battery_percent: null,
      battery_status: "Unknown",
      charging: null,
      online: true,
    });
    const phone = named(devices, "Jane's iPhone");
    expect(phone).toMatchObject({ online: true, battery_percent: 82, charging: false, locating: false, owner: null });
    expect(phone.location).toMatchObject({ positioning_type: "GPS", date_created: iso(T0 - 2 * MIN) });
    expect(named(devices, "John's iPhone").owner).toEqual({ id: "20000000002", name: "John Appleseed" });
    expect(named(devices, "Jane's MacBook Pro")).toMatchObject({ product_type: "MacBookPro", charging: true });
    expect(Object.values(findMyProbe(dsid).woken())).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it("leaves family devices out when family is off", async () => {
    const { service, sim } = await setup(undefined, { family: false });
    const devices = await service.devices();
    expect(devices.some((device) => device.owner !== null)).toBe(false);
    expect(fmipRoutes(sim)).toEqual(["fmip.initClient 200"]);
  });

  it("a refresh without locate keeps Apple's cached fix while battery moves on", async () => {
    const { service, sim, dsid } = await setup();
    const before = named(await service.devices(), "Jane's iPhone");
    sim.clock.advance(60 * MIN);
    const after = named(await service.devices(), "Jane's iPhone");
    expect(after.location).toEqual(before.location);
    expect(after.location_stale).toBe(true);
    expect(before.battery_percent).toBe(82);
    expect(after.battery_percent).toBe(78);
    expect(Object.values(findMyProbe(dsid).woken()).every((count) => count === 0)).toBe(true);
  });

  it("locates only the configured device, polling with its locate until the fix is finished", async () => {
    const { service, sim, dsid, slept, sent } = await setup(undefined, { locate: ["Jane's iPhone"] });
    const listed = await service.devices();
    const phone = named(listed, "Jane's iPhone");
    const start = sim.clock.now();
    slept.length = 0;
    sent.length = 0;
    const located = await service.locate();
    const fresh = named(located, "Jane's iPhone");
    expect(fresh.locating).toBe(false);
    expect(fresh.location?.date_created).toBe(iso(start + 10_000));
    expect(fresh.location?.latitude).not.toBe(phone.location?.latitude);
    expect(slept).toEqual([5000, 5000]);
    // The follow-up polls ask for the same device's locate again (a plain refresh keeps the cached fix).
    expect(locates(sent)).toEqual([
      `refreshClient ${phone.id}`,
      `refreshClient ${phone.id}`,
      `refreshClient ${phone.id}`,
    ]);
    expect(sent.every((entry) => entry.body["isUpdatingAllLocations"] === undefined)).toBe(true);
    // Three locate requests for the phone, none for any other device.
    expect(findMyProbe(dsid).woken()).toEqual(
      Object.fromEntries(listed.map((device) => [device.id, device.id === phone.id ? 3 : 0])),
    );
    const requests = fmipRoutes(sim).slice(2);
    expect(requests).toEqual(["fmip.refreshClient 200", "fmip.refreshClient 200", "fmip.refreshClient 200"]);
  });

  it("a plain refresh after the locate delay does not bring the fresh fix; the locate poll does", async () => {
    const { service, sim, sent } = await setup();
    const phone = named(await service.devices(), "Jane's iPhone");
    const start = sim.clock.now();
    // Start a locate and give up at once, before the device answered.
    const started = named(await service.locate([phone.id], { timeoutMs: 0 }), "Jane's iPhone");
    expect(started).toMatchObject({ locating: true, location: phone.location });
    sim.clock.advance(30_000);
    const plain = named(await service.devices(), "Jane's iPhone");
    expect(plain.location).toEqual(phone.location);
    expect(plain.location?.date_created).not.toBe(iso(start + 10_000));
    expect(locates(sent).slice(-1)).toEqual(["refreshClient -"]);
    // Asking again for that device's locate delivers the fix the device found 10 s after the request.
    const located = named(await service.locate([phone.id]), "Jane's iPhone");
    expect(located.locating).toBe(false);
    expect(located.location?.date_created).toBe(iso(start + 10_000));
  });

  it("locates several devices one request each, and polls only those still locating", async () => {
    const { service, sent, dsid } = await setup();
    const listed = await service.devices();
    const phone = named(listed, "Jane's iPhone");
    const old = named(listed, "Jane's old iPhone");
    sent.length = 0;
    const result = await service.locate([phone.id, old.id], { pollMs: 10_000, timeoutMs: 30_000 });
    expect(named(result, "Jane's iPhone").locating).toBe(false);
    expect(named(result, "Jane's old iPhone").locating).toBe(true);
    // Both asked once; at 10 s both polled (the phone's fix arrives); then only the silent old iPhone.
    expect(locates(sent)).toEqual([
      `refreshClient ${phone.id}`,
      `refreshClient ${old.id}`,
      `refreshClient ${phone.id}`,
      `refreshClient ${old.id}`,
      `refreshClient ${old.id}`,
      `refreshClient ${old.id}`,
    ]);
    const woken = findMyProbe(dsid).woken();
    expect(woken[phone.id]).toBe(2);
    expect(woken[old.id]).toBe(4);
    expect(Object.values(woken).reduce((sum, n) => sum + n, 0)).toBe(6);
  });

  it("never wakes devices that cannot be located, and gives up on an offline one after maxLocatingTime", async () => {
    const { service, dsid, slept } = await setup();
    const listed = await service.devices();
    const airpods = named(listed, "Jane's AirPods Pro");
    const old = named(listed, "Jane's old iPhone");
    await service.locate([airpods.id]);
    expect(findMyProbe(dsid).woken()[airpods.id]).toBe(0);
    slept.length = 0;
    const result = await service.locate([old.id], { pollMs: 10_000 });
    // Apple gives up on a silent device: the locate ends with the old fix.
    expect(named(result, "Jane's old iPhone")).toMatchObject({
      locating: false,
      location_stale: true,
      location: old.location,
    });
    expect(slept.reduce((sum, ms) => sum + ms, 0)).toBe(90_000);
    // The first request and nine follow-up polls, all for the old iPhone only.
    expect(findMyProbe(dsid).woken()[old.id]).toBe(10);
    expect(Object.values(findMyProbe(dsid).woken()).reduce((sum, n) => sum + n, 0)).toBe(10);
  });

  it("locate 'all' sends one request for all devices, then polls the ones still locating", async () => {
    const { service, dsid, sent } = await setup(undefined, { locate: "all" });
    const listed = await service.devices();
    sent.length = 0;
    const devices = await service.locate(undefined, { timeoutMs: 20_000 });
    expect(named(devices, "Jane's iPad").locating).toBe(false);
    expect(named(devices, "Jane's iPhone").locating).toBe(false);
    expect(sent[0]?.body["isUpdatingAllLocations"]).toBe(true);
    const asked = locates(sent);
    expect(asked[0]).toBe("refreshClient all");
    expect(asked.slice(1).every((entry) => entry !== "refreshClient all" && entry !== "refreshClient -")).toBe(true);
    const woken = findMyProbe(dsid).woken();
    for (const device of listed) expect(woken[device.id]).toBeGreaterThanOrEqual(1);
  });

  it("after 15 minutes Apple answers 450: the session revalidates and Find My restarts without SRP", async () => {
    const { service, sim, session } = await setup();
    await service.devices();
    sim.clock.advance(16 * MIN);
    const devices = await service.devices();
    expect(devices).toHaveLength(7);
    // 450, revalidate, the same call again; the new Find My session reports the family LOADING once more.
    expect(fmipRoutes(sim).slice(2)).toEqual([
      "fmip.refreshClient 450",
      "fmip.refreshClient 200",
      "fmip.refreshClient 200",
    ]);
    expect(sim.stats(ID).srp_signins).toBe(1);
    expect(sim.stats(ID).validates).toBeGreaterThanOrEqual(1);
    expect(session.snapshot().srp_sign_ins).toBe(1);
    sim.clock.advance(5 * MIN);
    expect(await service.devices()).toHaveLength(7);
  });

  it("when refreshClient still answers 450 after the revalidation, Find My starts over with initClient", async () => {
    const { service, sim } = await setup(undefined, { family: false });
    await service.devices();
    const validates = sim.stats(ID).validates;
    sim.faults.add({ endpoint: "fmip.refreshClient", kind: "status", status: 450, times: 2 });
    expect(await service.devices()).toHaveLength(6);
    expect(fmipRoutes(sim).slice(1)).toEqual([
      "fmip.refreshClient 450",
      "fmip.refreshClient 450",
      "fmip.initClient 200",
    ]);
    expect(sim.stats(ID).validates).toBe(validates + 1);
    expect(sim.stats(ID).srp_signins).toBe(1);

    sim.faults.add({ endpoint: "fmip.refreshClient", kind: "status", status: 450, times: 2 });
    sim.faults.add({ endpoint: "fmip.initClient", kind: "status", status: 450, times: 2 });
    await expect(service.devices()).rejects.toSatisfy((error) => isEngineError(error, "SESSION_EXPIRED"));
  });

  it("records playSound, sendMessage and lostMode with Apple's bodies", async () => {
    const { service, dsid, sim } = await setup();
    const phone = named(await service.devices(), "Jane's iPhone");
    const now = sim.clock.now();
    const sounded = await service.playSound(phone.id);
    expect(sounded?.id).toBe(phone.id);
    await service.sendMessage(phone.id, { text: "Dinner is ready", sound: true });
    await service.lostMode(phone.id, { text: "Please call me", phoneNumber: "+441234567890", passcode: "123456" });
    const actions = findMyProbe(dsid).actions();
    expect(actions.map((action) => [action.kind, action.device, action.at])).toEqual([
      ["playSound", phone.id, now],
      ["sendMessage", phone.id, now],
      ["lostDevice", phone.id, now],
    ]);
    expect(actions[0]?.body).toEqual({
      device: phone.id,
      subject: "Find My iPhone Alert",
      clientContext: { fmly: true },
    });
    expect(actions[1]?.body).toMatchObject({ text: "Dinner is ready", userText: true, sound: true, vibrate: false });
    expect(actions[2]?.body).toMatchObject({
      text: "Please call me",
      ownerNbr: "+441234567890",
      passcode: "123456",
      lostModeEnabled: true,
      trackingEnabled: true,
    });
    await expect(service.playSound("no-such-device")).rejects.toSatisfy((error) => isEngineError(error, "NOT_FOUND"));
  });

  it("a connection reset on playSound is not replayed: the action is sent once and fails", async () => {
    const { service, dsid, sim, sent } = await setup(undefined, { family: false });
    const phone = named(await service.devices(), "Jane's iPhone");
    sim.faults.add({ endpoint: "fmip.playSound", kind: "reset", times: 1 });
    await expect(service.playSound(phone.id)).rejects.toSatisfy((error) => isEngineError(error));
    expect(fmipRoutes(sim).filter((route) => route.startsWith("fmip.playSound"))).toEqual(["fmip.playSound reset"]);
    expect(
      findMyProbe(dsid)
        .actions()
        .filter((action) => action.kind === "playSound").length,
    ).toBeLessThanOrEqual(1);
    expect(sent.filter((entry) => entry.path === "playSound").map((entry) => entry.idempotent)).toEqual([false]);
    // Reads stay retried: a reset on refreshClient is sent again and succeeds.
    sim.faults.add({ endpoint: "fmip.refreshClient", kind: "reset", times: 1 });
    expect(await service.devices()).toHaveLength(6);
  });

  it("a 503 on refreshClient is retried by the transport, and raised when it persists", async () => {
    const { service, sim } = await setup(undefined, { family: false });
    await service.devices();
    sim.faults.add({ endpoint: "fmip.refreshClient", kind: "unavailable", times: 1 });
    expect(await service.devices()).toHaveLength(6);
    sim.faults.add({ endpoint: "fmip.refreshClient", kind: "unavailable" });
    await expect(service.devices()).rejects.toSatisfy((error) => isEngineError(error, "SERVICE_UNAVAILABLE"));
  });
});

type Line = [string, string, Record<string, unknown> | undefined];

const totalWoken = (dsid: string) => Object.values(findMyProbe(dsid).woken()).reduce((sum, n) => sum + n, 0);

describe("FindMyService: what a locate may wake", () => {
  it("a locate on a new service lists the devices first, then wakes the one asked for", async () => {
    const { service, dsid, sent } = await setup(undefined, { locate: ["Jane's iPad"] });
    const located = await service.locate();
    const ipad = named(located, "Jane's iPad");
    expect(locates(sent)[0]).toBe("initClient -");
    expect(findMyProbe(dsid).woken()[ipad.id]).toBeGreaterThanOrEqual(1);
    expect(totalWoken(dsid)).toBe(findMyProbe(dsid).woken()[ipad.id]);
  });

  it("locate 'all' on a new service asks at once, without listing first", async () => {
    const { service, sent } = await setup(undefined, { locate: "all", family: false });
    await service.locate(undefined, { timeoutMs: 0 });
    expect(locates(sent)).toEqual(["initClient all"]);
  });

  it("locate: none, an empty list, or devices that cannot be located only list the devices", async () => {
    const { service, dsid, sent, session } = await setup(undefined, { family: false });
    const { log, lines } = bindingRecorder();
    const logged = new FindMyService(recording(session, sent), { family: false, logger: log });
    const listed = await service.devices();
    await logged.devices();
    const airpods = named(listed, "Jane's AirPods Pro");
    for (const run of [() => logged.locate(), () => logged.locate([]), () => logged.locate([airpods.id])]) {
      sent.length = 0;
      await run();
      expect(locates(sent).filter((entry) => entry !== "initClient -")).toEqual(["refreshClient -"]);
    }
    expect(totalWoken(dsid)).toBe(0);
    expect(lines).toContainEqual(["debug", "locate: device cannot be located; not waking it", { device: airpods.id }]);
    expect(lines.some(([level]) => level === "warn")).toBe(false);
  });

  it("asks once per device however it is named, skips unknown names with a warning", async () => {
    const { sent, dsid, session } = await setup(undefined, { family: false });
    const { log, lines, bindings } = bindingRecorder();
    const service = new FindMyService(recording(session, sent), {
      family: false,
      logger: log,
      sleep: async (ms) => void sim!.clock.advance(ms),
    });
    expect(bindings).toEqual([{ service: "findmy" }]);
    const phone = named(await service.devices(), "Jane's iPhone");
    sent.length = 0;
    await service.locate(["No Such Device", phone.id, "Jane's iPhone"]);
    expect(lines).toContainEqual(["warn", "locate: no such device", { device: "No Such Device" }]);
    // One request for the phone and one poll until its fix arrives; nothing else woken.
    expect(locates(sent)).toEqual([
      `refreshClient ${phone.id}`,
      `refreshClient ${phone.id}`,
      `refreshClient ${phone.id}`,
    ]);
    expect(totalWoken(dsid)).toBe(3);
  });

  it("polls only the devices it was asked to locate, not others still locating", async () => {
    const { service, dsid, sent } = await setup(undefined, { family: false });
    const listed = await service.devices();
    const phone = named(listed, "Jane's iPhone");
    const old = named(listed, "Jane's old iPhone");
    await service.locate([old.id], { timeoutMs: 0 }); // left locating
    const oldWoken = findMyProbe(dsid).woken()[old.id];
    sent.length = 0;
    await service.locate([phone.id]);
    expect(locates(sent).every((entry) => entry === `refreshClient ${phone.id}`)).toBe(true);
    expect(findMyProbe(dsid).woken()[old.id]).toBe(oldWoken);
  });

  it("waits in steps of the poll interval, the last one cut to the time left, and logs giving up", async () => {
    const { dsid, slept, sent, session } = await setup(undefined, { family: false });
    const { log, lines } = bindingRecorder();
    const service = new FindMyService(recording(session, sent), {
      family: false,
      logger: log,
      sleep: async (ms) => {
        slept.push(ms);
        sim!.clock.advance(ms);
      },
    });
    const old = named(await service.devices(), "Jane's old iPhone");
    slept.length = 0;
    await service.locate([old.id], { pollMs: 10_000, timeoutMs: 25_000 });
    expect(slept).toEqual([10_000, 10_000, 5_000]);
    expect(lines).toContainEqual(["info", "locate did not finish in time", { waited_ms: 25_000 }]);
    expect(findMyProbe(dsid).woken()[old.id]).toBe(4);
  });

  it("waits for a family member still loading at most three more times, logging each wait", async () => {
    const household = defaultFindMyScenario("Jane");
    const family = (household.family ?? []).map((member) => ({ ...member, loading_refreshes: 10 }));
    const { sim: handle, slept, sent, session } = await setup({ ...household, family });
    const { log, lines } = bindingRecorder();
    const service = new FindMyService(recording(session, sent), {
      logger: log,
      sleep: async (ms) => {
        slept.push(ms);
        handle.clock.advance(ms);
      },
    });
    slept.length = 0;
    sent.length = 0;
    const devices = await service.devices();
    expect(devices.some((device) => device.owner !== null)).toBe(false);
    expect(locates(sent)).toEqual(["initClient -", "refreshClient -", "refreshClient -", "refreshClient -"]);
    expect(slept).toEqual([5000, 5000, 5000]);
    expect(lines.filter(([, message]) => message.startsWith("family"))).toEqual(
      Array.from(
        { length: 3 },
        (): Line => ["debug", "family devices still loading; refreshing again", { members: 1 }],
      ),
    );
  });
});

describe("FindMyService: actions", () => {
  it("sends Apple's default message and lost-mode bodies, for the device named, and logs the action", async () => {
    const { dsid, sent, session } = await setup(undefined, { family: false });
    const { log, lines } = bindingRecorder();
    const service = new FindMyService(recording(session, sent), { family: false, logger: log });
    const ipad = named(await service.devices(), "Jane's iPad");
    expect((await service.playSound(ipad.id))?.name).toBe("Jane's iPad");
    await service.sendMessage(ipad.id, { text: "Hello" });
    await service.lostMode(ipad.id, { text: "Lost" });
    const [, message, lost] = findMyProbe(dsid).actions();
    expect(message?.body).toEqual({
      device: ipad.id,
      subject: "Find My iPhone Alert",
      userText: true,
      text: "Hello",
      sound: false,
      vibrate: false,
      strobe: false,
      clientContext: { fmly: false },
    });
    expect(lost?.body).toEqual({
      device: ipad.id,
      text: "Lost",
      userText: true,
      ownerNbr: "",
      lostModeEnabled: true,
      trackingEnabled: true,
      emailUpdates: true,
      passcode: "",
      clientContext: { fmly: false },
    });
    await service.sendMessage(ipad.id, { text: "Hi", subject: "From Jane" });
    expect(findMyProbe(dsid).actions().at(-1)?.body).toMatchObject({ subject: "From Jane" });
    expect(lines.filter(([, m]) => m === "Find My action")).toEqual([
      ["info", "Find My action", { action: "playSound", device: ipad.id }],
      ["info", "Find My action", { action: "sendMessage", device: ipad.id }],
      ["info", "Find My action", { action: "lostDevice", device: ipad.id }],
      ["info", "Find My action", { action: "sendMessage", device: ipad.id }],
    ]);
    await expect(service.playSound("")).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: "Find My playSound: a device id is required",
    });
  });
});
