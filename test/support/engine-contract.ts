/**
 * The engine contract: what every `EngineApi` does, whether it is the embedded `Engine` or a
 * `RemoteEngine` talking to a running icloud2mqtt. `engineContract(name, factory)` defines the tests;
 * the factory gets a fresh simulator with one account and returns a started engine for it (blocked on
 * the two-factor code). Front-ends may rely on exactly this.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccountState } from "../../src/engine/account-state.ts";
import { AccountStateSchema } from "../../src/engine/account-state.ts";
import type { EngineApi } from "../../src/engine/api.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import { EngineError } from "../../src/errors.ts";
import { FmipDeviceSchema } from "../../src/icloud/findmy/types.ts";
import { findMyProbe } from "../../src/simulator/findmy/index.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { VERSION } from "../../src/version.ts";
import { steadyDevice } from "./engine-harness.ts";
import { cleanUp, sleep, startTestSimulator, type TestAccount, until } from "./harness.ts";

export interface ContractWorld {
  sim: SimulatorHandle;
  account: TestAccount;
  /** The account's id in the configuration. */
  id: string;
  /** The account's settings besides its credentials and endpoint. */
  settings: Record<string, unknown>;
}

/** Starts an engine for the world's account and returns it started; stopped by the factory's cleanups. */
export type EngineFactory = (world: ContractWorld) => Promise<EngineApi>;

const ID = "jane";
const DEVICES = ["Jane's iPhone", "Jane's iPad", "Jane's Mac"];

const steady = (name: string, model: string, kind: string) =>
  steadyDevice(name, model, kind, 0.8, { latitude: 48.85, longitude: 2.35, age: "2m" });

/** An engine call that must fail: its EngineError. */
async function failure(call: Promise<unknown>): Promise<EngineError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error("expected the call to fail");
}

/** The snapshot once it exists (a remote engine has one as soon as it started). */
function stateOf(api: EngineApi): AccountState | undefined {
  try {
    return api.snapshot(ID).state;
  } catch {
    return undefined;
  }
}

export function engineContract(name: string, factory: EngineFactory, dsid: string): void {
  const account: TestAccount = { appleId: "jane@example.com", password: `contract-${dsid}`, code: "482916", dsid };

  describe(`${name}: the engine contract`, () => {
    let sim: SimulatorHandle;
    let api: EngineApi;
    const states: AccountState[] = [];
    const updated: EngineEvents["device.updated"][0][] = [];

    beforeAll(async () => {
      sim = await startTestSimulator(account, {
        findmy: {
          first_name: "Jane",
          devices: [
            steady("Jane's iPhone", "iPhone16,1", "iPhone"),
            steady("Jane's iPad", "iPad13,16", "iPad"),
            steady("Jane's Mac", "Mac14,2", "MacBookPro"),
          ],
        },
        photos: { count: 5, seed: 4 },
        calls: { generate: { count: 3, seed: 4 } },
      });
      api = await factory({ sim, account, id: ID, settings: { findmy: { family: false } } });
      api.bus.on(states, "account.state", (state) => void states.push(state));
      api.bus.on(updated, "device.updated", (event) => void updated.push(event));
    }, 60_000);

    afterAll(cleanUp);

    it("lists the account and waits for the two-factor code, with empty snapshots", async () => {
      await until(() => stateOf(api)?.state === "blocked", "the account to be blocked");
      expect(api.version).toBe(VERSION);
      const accounts = api.accounts();
      expect(accounts).toHaveLength(1);
      expect(accounts[0]).toMatchObject({ id: ID, services: { findmy: true, photos: true, calls: true } });
      // The embedded engine shows the Apple ID, a remote one the masked form the bridge publishes.
      expect(accounts[0]?.username).toMatch(/^j.*@example\.com$/);
      const snapshot = api.snapshot(ID);
      expect(AccountStateSchema.parse(snapshot.state)).toMatchObject({
        account: ID,
        state: "blocked",
        session: { error: "code-required" },
      });
      expect(snapshot.findmy).toEqual({ devices: [] });
      expect(snapshot.photos).toEqual({ latest: null, count: null, backfill: null });
      expect(snapshot.calls).toEqual({ last: null, recent: [] });
      expect(api.snapshot()).toEqual(snapshot);
      expect((await failure(Promise.resolve().then(() => api.snapshot("nobody")))).code).toBe("NOT_FOUND");
      expect(api.logs(ID, "debug")).toBeInstanceOf(Array);
    });

    it("refuses a wrong code with CODE_INVALID and stays blocked", async () => {
      const error = await failure(api.execute("mfa", { account: ID, code: "000000" }));
      expect(error.code).toBe("CODE_INVALID");
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain("000000");
      await until(() => stateOf(api)?.prevError?.code === "code-invalid", "the code-invalid state");
      expect(stateOf(api)).toMatchObject({ state: "blocked", session: { state: "failed" } });
    });

    it("accepts the right code: the session is active and the first sync fills the snapshot", async () => {
      expect(await api.execute("mfa", { account: ID, code: account.code })).toEqual({
        session: "active",
        error: null,
        awaiting: null,
      });
      await until(() => {
        const s = stateOf(api);
        // Every service that runs and is offered (calendar is on by default, but this account has none).
        const offered = Object.values(s?.services ?? {}).filter((service) => service.enabled && service.available);
        return s?.state === "ready" && offered.length >= 3 && offered.every((service) => service.last_sync !== null);
      }, "the first sync of every service");
      await until(() => api.snapshot(ID).calls.last !== null, "the newest call");
      const snapshot = api.snapshot(ID);
      expect(snapshot.findmy.devices.map((d) => d.name).sort()).toEqual([...DEVICES].sort());
      for (const device of snapshot.findmy.devices) expect(FmipDeviceSchema.parse(device)).toEqual(device);
      expect(snapshot.photos.count).toBe(5);
      expect(snapshot.photos.latest?.asset).toMatchObject({ data_type: "icpl.asset" });
      expect(snapshot.calls.last).toMatchObject({ data_type: "callkit.call" });
    });

    it("emits account.state for every change and device.updated for each new device", () => {
      expect(states.length).toBeGreaterThan(0);
      for (const state of states) expect(AccountStateSchema.parse(state)).toEqual(state);
      expect(states.at(-1)).toEqual(api.snapshot(ID).state);
      expect(states.some((s) => s.state === "ready" && s.session.state === "active")).toBe(true);
      const devices = api.snapshot(ID).findmy.devices;
      expect(updated.map((e) => e.device.name).sort()).toEqual([...DEVICES].sort());
      for (const event of updated) {
        expect(event).toEqual({ account: ID, device: devices.find((d) => d.id === event.device.id) });
      }
    });

    it("sync answers after the run, for every data type or the ones named", async () => {
      expect(await api.execute("sync", { account: ID })).toEqual({ state: "ready" });
      expect(await api.execute("sync", { data_types: ["callkit.calls"] })).toEqual({ state: "ready" });
      const error = await failure(api.execute("sync", { account: "nobody" }));
      expect(error.code).toBe("NOT_FOUND");
    });

    it("locate wakes only the device named and answers with it", async () => {
      const probe = findMyProbe(dsid);
      const before = { ...probe.woken() };
      const pending = api.execute("locate", { account: ID, device: "Jane's iPad" });
      // Once the device is woken, let the simulated fix finish so the next poll sees it located.
      for (let i = 0; i < 500 && JSON.stringify(probe.woken()) === JSON.stringify(before); i++) await sleep(20);
      sim.clock.advance(60_000);
      const { devices } = await pending;
      const ipad = devices.find((d) => d.name === "Jane's iPad");
      expect(ipad).toBeDefined();
      expect(FmipDeviceSchema.parse(ipad)).toEqual(ipad);
      const woken = probe.woken();
      expect(Object.keys(woken).filter((id) => (woken[id] ?? 0) !== (before[id] ?? 0))).toEqual([ipad?.id]);
    });

    it("play_sound reaches the device; an unknown device is NOT_FOUND and reaches nothing", async () => {
      const probe = findMyProbe(dsid);
      const start = probe.actions().length;
      const iphone = api.snapshot(ID).findmy.devices.find((d) => d.name === "Jane's iPhone");
      expect(await api.execute("play_sound", { device: "Jane's iPhone", subject: "Find me" })).toEqual({
        device: iphone?.id,
      });
      const error = await failure(api.execute("play_sound", { account: ID, device: "Nobody's Phone" }));
      expect(error.code).toBe("NOT_FOUND");
      const actions = probe.actions().slice(start);
      expect(actions.map((a) => [a.kind, a.device])).toEqual([["playSound", iphone?.id]]);
      expect(actions[0]?.body).toMatchObject({ subject: "Find me" });
    });

    it("refuses invalid input with INVALID_INPUT before anything happens", async () => {
      const stats = sim.stats(account.appleId);
      const actions = findMyProbe(dsid).actions().length;
      const invalid: Array<Promise<unknown>> = [
        api.execute("mfa", { code: "12" }),
        api.execute("play_sound", {} as never),
        api.execute("play_sound", { device: "Jane's iPhone", volume: 11 } as never),
        api.execute("sync", { data_types: ["bogus"] } as never),
        api.execute("launch_rocket" as never, {} as never),
      ];
      for (const call of invalid) {
        const error = await failure(call);
        expect(error.code).toBe("INVALID_INPUT");
        expect(error.retryable).toBe(false);
      }
      expect(sim.stats(account.appleId)).toEqual(stats);
      expect(findMyProbe(dsid).actions()).toHaveLength(actions);
    });
  });
}
