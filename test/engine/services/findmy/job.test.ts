import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FindMyConfigSchema } from "../../../../src/engine/services/findmy/config.ts";
import { FindMyJob, sleepUnless } from "../../../../src/engine/services/findmy/job.ts";
import type { FindMyState } from "../../../../src/engine/services/findmy/state.ts";
import { FindMyService } from "../../../../src/icloud/findmy/find-my-service.ts";
import type { ICloudSession } from "../../../../src/icloud/session.ts";
import { silentLogger } from "../../../../src/logger.ts";
import type { FindMyAccount } from "../../../../src/simulator/findmy/account.ts";
import { createFindMyRoutes, findMyProbe } from "../../../../src/simulator/findmy/index.ts";
import { parseScenario } from "../../../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../../../src/simulator/server.ts";
import { steadyDevice } from "../../../support/engine-harness.ts";
import { account } from "../../../support/harness.ts";
import { openSession } from "../../../support/simulator.ts";

const ID = "job@example.com";
const DSID = "20000000777";
let sim: SimulatorHandle | undefined;
beforeEach(() => {
  // The simulator runs in this process: frozen Date makes its clock (batteries, fixes) exact.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.parse("2026-03-02T08:00:00.000Z"));
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  vi.useRealTimers();
});

/** Devices that answer a locate at once (no real waiting in the job's service). */
const device = (name: string, extra: Record<string, unknown> = {}) => ({
  ...steadyDevice(name, "iPhone16,1", "iPhone", 0.5, { latitude: 48.85, longitude: 2.35, age: "1h" }),
  locate_delay: "0s",
  route: [
    { lat: 48.85, lon: 2.35 },
    { lat: 48.9, lon: 2.4 },
  ],
  ...extra,
});

interface SetupOptions {
  family?: boolean;
  /** The engine's stop signal given to the job. */
  signal?: AbortSignal;
  /** How long the iPhone takes to answer a locate (simulated clock, frozen here: "1h" never answers). */
  phoneLocateDelay?: string;
}

async function setup(config: Record<string, unknown> = {}, options: SetupOptions = {}) {
  const family = options.family ?? false;
  const started = await startSimulator({
    scenario: parseScenario({
      accounts: [
        account(ID, {
          dsid: DSID,
          mfa: { kind: "none" },
          findmy: {
            first_name: "Job",
            devices: [
              device("Job's iPhone", {
                battery_drain_per_hour: 0.3,
                ...(options.phoneLocateDelay === undefined ? {} : { locate_delay: options.phoneLocateDelay }),
              }),
              device("Job's iPad", { device_class: "iPad", battery_drain_per_hour: 0.3 }),
              device("Job's AirPods", { location_capable: false, location: null }),
              ...(family ? [device("Kid's iPhone", { owner: "20000000778" })] : []),
            ],
            family: family
              ? [{ prs_id: "20000000778", first_name: "Kid", last_name: "Job", apple_id: "kid@example.com" }]
              : [],
          },
        }),
      ],
    }),
    port: 0,
    services: [createFindMyRoutes],
  });
  sim = started;
  const session: ICloudSession = await openSession(started, ID);
  expect((await session.signIn()).state).toBe("active");
  const job = new FindMyJob(
    session,
    FindMyConfigSchema.parse(config),
    silentLogger,
    options.signal ?? new AbortController().signal,
  );
  const state: FindMyState = { devices: {} };
  const world = findMyProbe(DSID) as FindMyAccount;
  const idOf = (name: string) => world.devices.find((d) => d.spec.name === name)?.spec.id ?? "";
  const jobWith = (other: Record<string, unknown>) =>
    new FindMyJob(session, FindMyConfigSchema.parse(other), silentLogger, new AbortController().signal);
  return { sim: started, job, state, world, idOf, jobWith };
}

const names = (devices: Array<{ name: string }>) => devices.map((d) => d.name).sort();

describe("FindMyJob", () => {
  it("uses the configured Find My options", async () => {
    const { job, state } = await setup({ family: false }, { family: true });
    expect(job.service).toBeInstanceOf(FindMyService);
    const { updated } = await job.refresh(state);
    expect(names(updated)).toEqual(["Job's AirPods", "Job's iPad", "Job's iPhone"]);
  });

  it("reports a device when new or changed only", async () => {
    const { job, state, sim } = await setup();
    expect(names((await job.refresh(state)).updated)).toHaveLength(3);
    expect(await job.refresh(state)).toEqual({ updated: [], removed: [] });
    sim.clock.advance(40 * 60_000); // the batteries drain
    const moved = await job.refresh(state);
    expect(names(moved.updated)).toEqual(["Job's iPad", "Job's iPhone"]);
    expect(state.devices[moved.updated[0]?.id ?? ""]).toEqual(moved.updated[0]);
  });

  it("removes a device after two refreshes without it, counting afresh after it came back or was removed", async () => {
    const { job, state, world, idOf } = await setup();
    await job.refresh(state);
    const ipad = idOf("Job's iPad");
    const index = world.devices.findIndex((d) => d.spec.id === ipad);
    const [spec] = world.devices.splice(index, 1);
    expect((await job.refresh(state)).removed).toEqual([]);
    // Back before the second miss: the count starts over.
    if (spec) world.devices.push(spec);
    await job.refresh(state);
    world.devices.splice(world.devices.length - 1, 1);
    expect((await job.refresh(state)).removed).toEqual([]);
    // Removed as last known, friendly slug included (device.removed carries it).
    const lastKnown = structuredClone(state.devices[ipad]);
    expect(lastKnown).toMatchObject({ id: ipad, name: "Job's iPad", slug: "job_s_ipad" });
    expect((await job.refresh(state)).removed).toEqual([lastKnown]);
    expect(Object.keys(state.devices)).not.toContain(ipad);
    // Removed, then back and gone once more: one miss only, kept.
    if (spec) world.devices.push(spec);
    expect(names((await job.refresh(state)).updated)).toEqual(["Job's iPad"]);
    world.devices.splice(world.devices.length - 1, 1);
    expect((await job.refresh(state)).removed).toEqual([]);
  });

  it("locate with locate: none asks nothing; a named device is located alone and never counted missing", async () => {
    const { job, state, world, idOf, sim } = await setup();
    await job.refresh(state);
    const before = sim.requests().length;
    expect(await job.locate(state)).toEqual({ updated: [], removed: [] });
    expect(sim.requests().length).toBe(before);

    const phone = idOf("Job's iPhone");
    sim.clock.advance(40 * 60_000);
    const located = await job.locate(state, "job's IPHONE");
    expect(located.removed).toEqual([]);
    expect(located.updated.map((d) => d.id)).toContain(phone);
    expect(world.woken()[phone]).toBeGreaterThanOrEqual(1);
    expect(world.woken()[idOf("Job's iPad")]).toBe(0);

    // A locate's answer is no full refresh: a device missing from it is not counted.
    const ipad = idOf("Job's iPad");
    world.devices.splice(
      world.devices.findIndex((d) => d.spec.id === ipad),
      1,
    );
    await job.locate(state, phone);
    await job.locate(state, phone);
    expect(Object.keys(state.devices)).toContain(ipad);
  });

  it("locate with a configured list wakes those devices", async () => {
    const { job, state, world, idOf } = await setup({ locate: ["Job's iPad"] });
    await job.refresh(state);
    await job.locate(state);
    expect(world.woken()).toEqual({ [idOf("Job's iPhone")]: 0, [idOf("Job's iPad")]: 1, [idOf("Job's AirPods")]: 0 });
  });

  it("resolves a device by id or by name without case; an unknown one names those it knows", async () => {
    const { job, state, idOf } = await setup();
    expect(() => job.resolve(state, "Job's iPhone")).toThrow(
      expect.objectContaining({ code: "NOT_FOUND", message: 'unknown device "Job\'s iPhone"; known: none yet' }),
    );
    await job.refresh(state);
    expect(job.resolve(state, idOf("Job's iPad"))).toBe(idOf("Job's iPad"));
    expect(job.resolve(state, "JOB'S IPAD")).toBe(idOf("Job's iPad"));
    expect(job.resolve(state, "job's ipad")).toBe(idOf("Job's iPad"));
    const error = (() => {
      try {
        job.resolve(state, "Nobody's Phone");
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    const listed = error?.message.replace('unknown device "Nobody\'s Phone"; known: ', "").split(", ");
    expect(listed?.sort()).toEqual(["Job's AirPods", "Job's iPad", "Job's iPhone"]);
  });
  it("resolves a device by its friendly name (slug) too", async () => {
    const { job, state, idOf } = await setup();
    await job.refresh(state);
    expect(state.devices[idOf("Job's iPad")]?.slug).toBe("job_s_ipad");
    expect(job.resolve(state, "job_s_ipad")).toBe(idOf("Job's iPad"));
    expect(job.resolve(state, "job_s_iphone")).toBe(idOf("Job's iPhone"));
  });

  it("prepare brings stored devices up to the configuration: home/away from the current home, friendly names", async () => {
    const home = { latitude: 48.85, longitude: 2.35, radius: 100 };
    const { state, idOf, jobWith } = await setup();
    await jobWith({ home }).refresh(state);
    const ipad = idOf("Job's iPad");
    expect(state.devices[ipad]).toMatchObject({ at_home: true, home_distance: 0, slug: "job_s_ipad" });
    const stored = structuredClone(state.devices);

    // Home moved 1 km north (about 0.009°), and the iPad got a configured name.
    jobWith({ home: { ...home, latitude: 48.859 }, friendly_names: { [ipad]: "tablet" } }).prepare(state);
    expect(state.devices[ipad]).toEqual({ ...stored[ipad], at_home: false, home_distance: 1001, slug: "tablet" });

    // No home any more: the home fields go; names stay as they were given.
    jobWith({}).prepare(state);
    const { at_home: _at, home_distance: _distance, ...plain } = stored[ipad] ?? { at_home: null, home_distance: null };
    expect(state.devices[ipad]).toEqual({ ...plain, slug: "tablet" });
    for (const device of Object.values(state.devices)) {
      expect(Object.keys(device)).not.toContain("at_home");
      expect(Object.keys(device)).not.toContain("home_distance");
    }
  });

  it("a locate waiting for a device's fix ends as soon as the engine stops, with the stop's reason", async () => {
    const stop = new AbortController();
    const { job, state, world, idOf } = await setup({}, { signal: stop.signal, phoneLocateDelay: "1h" });
    await job.refresh(state);
    const phone = idOf("Job's iPhone");
    const located = job.locate(state, phone).catch((error: unknown) => error);
    // The locate was sent; the job now waits (Apple's callback interval, 5 s) before asking again.
    await vi.waitFor(() => expect(world.woken()[phone]).toBe(1), { timeout: 2_000, interval: 5 });
    const reason = new Error("engine stopping");
    stop.abort(reason);
    expect(await located).toBe(reason);
    expect(world.woken()[phone]).toBe(1);
  });
});

describe("sleepUnless", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it("resolves after the time, and stops listening to the signal", async () => {
    const signal = new AbortController().signal;
    let done = false;
    const sleeping = sleepUnless(1_000, signal).then(() => {
      done = true;
    });
    expect(getEventListeners(signal, "abort")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
    expect(getEventListeners(signal, "abort")).toEqual([]);
  });

  it("rejects with the signal's reason as soon as it aborts, and clears its timer and its listener", async () => {
    const controller = new AbortController();
    const sleeping = sleepUnless(60_000, controller.signal).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error("stop");
    controller.abort(reason);
    expect(await sleeping).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, "abort")).toEqual([]);
  });

  it("an already aborted signal rejects at once, waiting for nothing", async () => {
    const reason = new Error("stopped before");
    const signal = AbortSignal.abort(reason);
    const sleeping = sleepUnless(60_000, signal).catch((error: unknown) => error);
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(signal, "abort")).toEqual([]);
    expect(await sleeping).toBe(reason);
  });
});
