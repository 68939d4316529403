import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningBridge } from "../../src/bridge.ts";
import { findMyProbe } from "../../src/simulator/findmy/index.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { bridgeHarness, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, type TestAccount } from "../support/harness.ts";
import { HaClient, json, type Received } from "../support/mqtt.ts";

const APPLE_ID = "jane@example.com";
const CODE = "135790";
const DSID = "20000000042";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: "bridge-commands-password", code: CODE, dsid: DSID };
const BASE = "icloud2mqtt";

interface Response {
  status: "ok" | "error";
  data: Record<string, unknown>;
  error?: string;
  transaction?: string;
}
interface StatePayload {
  state: string;
  prevError: { code: string; message: string } | null;
  session: { state: string; error: string | null };
}

let sim: SimulatorHandle;
let bridge: RunningBridge;
let ha: HaClient;
let tx = 0;

beforeAll(async () => {
  ({ sim, bridge } = await bridgeHarness({
    account: ACCOUNT,
    spec: {
      mfa: {
        kind: "hsa2",
        code: CODE,
        trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" }],
      },
      findmy: {},
      photos: { count: 5, seed: 1 },
      calls: { generate: { count: 3, seed: 1 } },
    },
    dirPrefix: "i2m-cmd-",
    id: "jane",
    // family: false: no waiting for family members' devices still LOADING (5 s rounds).
    settings: { findmy: { family: false } },
  }));
  ha = await HaClient.connect(bridge.broker?.url ?? "");
  onCleanup(() => ha.close());
  await waitForState(ha, `${BASE}/jane/state`, "blocked", 20_000);
});

afterAll(cleanUp);

const state = (m: Received) => json(m) as StatePayload;
const lastState = () => state(ha.last(`${BASE}/jane/state`) as Received);

/** Sends a request with a fresh transaction id and waits for its response. */
async function request(command: string, payload: Record<string, unknown> | string, timeoutMs = 20_000) {
  const transaction = `t${++tx}`;
  const body = typeof payload === "string" ? payload : JSON.stringify({ ...payload, transaction });
  const from = ha.messages.length;
  await ha.publish(`${BASE}/bridge/request/${command}`, body);
  const m = await ha.waitFor(
    (r) =>
      r.topic === `${BASE}/bridge/response/${command}` &&
      (typeof payload === "string" || (json(r) as Response).transaction === transaction),
    timeoutMs,
    from,
  );
  expect(m.retain).toBe(false);
  return json(m) as Response;
}

describe("commands over MQTT against the real engine", () => {
  it("answers commands that make no sense while blocked with errors, and stays blocked", async () => {
    expect(await request("choice", { account: "jane", choice: "sms" })).toMatchObject({
      status: "error",
      data: { code: "INVALID_STATE" },
    });
    expect(await request("sync", { account: "jane" })).toMatchObject({
      status: "error",
      data: { code: "NOT_SIGNED_IN" },
    });
    expect(await request("locate", { account: "jane" })).toMatchObject({
      status: "error",
      data: { code: "NOT_SIGNED_IN" },
    });
    expect(lastState().state).toBe("blocked");
  });

  it("rejects bad payloads, naming the problem, without touching the account", async () => {
    const codesBefore = sim.stats(APPLE_ID).codes_sent;
    const cases: Array<[string, string, RegExp]> = [
      ["sync", "{not json", /invalid JSON/],
      ["launch_rocket", "{}", /unknown command 'launch_rocket'/],
      ["mfa", JSON.stringify({ account: "jane", code: "123456789" }), /code must be 4 to 8 digits/],
      ["sync", JSON.stringify({ account: "nobody" }), /unknown account "nobody"/],
      ["sync", JSON.stringify({ account: "jane", data_types: ["bogus"] }), /data_types/],
      ["play_sound", JSON.stringify({ account: "jane" }), /device/],
      ["sync", JSON.stringify({ account: "jane", extra: 1 }), /extra/],
    ];
    for (const [command, payload, message] of cases) {
      const response = await request(command, payload);
      expect(response.status, `${command} ${payload}`).toBe("error");
      expect(response.error, `${command} ${payload}`).toMatch(message);
      expect(response.error).not.toContain("12345");
    }
    await sleep(200);
    expect(lastState()).toMatchObject({ state: "blocked", session: { error: "code-required" } });
    expect(sim.stats(APPLE_ID).codes_sent).toEqual(codesBefore);
    expect(sim.stats(APPLE_ID).srp_signins).toBe(1);
  });

  it("a wrong code is an error and leaves the account blocked; the right code signs in", async () => {
    const wrong = "000000";
    const from = ha.messages.length;
    const response = await request("mfa", { account: "jane", code: wrong });
    expect(response).toMatchObject({ status: "error", data: { code: "CODE_INVALID" } });
    expect(response.error).not.toContain(wrong);
    const after = await ha.waitFor(
      (m) => m.topic === `${BASE}/jane/state` && state(m).prevError?.code === "code-invalid",
      10_000,
      from,
    );
    expect(state(after)).toMatchObject({ state: "blocked", session: { state: "failed" } });
    // Never left blocked in between.
    const states = ha.messages.slice(from).filter((m) => m.topic === `${BASE}/jane/state`);
    expect(states.map((m) => state(m).state)).not.toContain("ready");
    await sleep(200);
    expect(lastState().state).toBe("blocked");
    expect(ha.last(`${BASE}/jane/availability`)?.payload.toString()).toBe("offline");

    const ok = await request("mfa", { account: "jane", code: CODE });
    expect(ok).toMatchObject({ status: "ok", data: { session: "active" } });
    await ha.waitFor((m) => m.topic === `${BASE}/jane/availability` && m.payload.toString() === "online", 15_000);
    await ha.waitFor((m) => m.topic === `${BASE}/jane/calls/last`, 20_000);
    await ha.waitFor((m) => m.topic === `${BASE}/jane/photos/count`, 20_000);
  });

  it("sync with and without data_types answers after the run", async () => {
    const all = await request("sync", { account: "jane" });
    expect(all).toMatchObject({ status: "ok", data: { state: "ready" } });
    const some = await request("sync", { data_types: ["callkit.calls"] });
    expect(some).toMatchObject({ status: "ok" });
    expect(lastState().state).toBe("ready");
  });

  it("locate wakes only the named device", async () => {
    const probe = findMyProbe(DSID);
    const before = { ...probe.woken() };
    const pending = request("locate", { account: "jane", device: "Jane's iPad" });
    // Once the device is woken, let the simulated fix finish so the next poll sees it located.
    for (let i = 0; i < 500 && JSON.stringify(probe.woken()) === JSON.stringify(before); i++) await sleep(20);
    sim.clock.advance(60_000);
    const response = await pending;
    expect(response.status).toBe("ok");
    const devices = response.data["devices"] as Array<{ id: string; name: string }>;
    const ipad = devices.find((d) => d.name === "Jane's iPad");
    expect(ipad).toBeDefined();
    const woken = probe.woken();
    const changed = Object.keys(woken).filter((id) => (woken[id] ?? 0) !== (before[id] ?? 0));
    expect(changed).toEqual([ipad?.id]);
  });

  it("play_sound, send_message and lost_mode reach the device with the right body", async () => {
    const probe = findMyProbe(DSID);
    const start = probe.actions().length;
    const sound = await request("play_sound", { account: "jane", device: "Jane's iPhone", subject: "Find me" });
    expect(sound.status).toBe("ok");
    const id = sound.data["device"] as string;
    const msg = await request("send_message", { device: id, text: "Call home", subject: "Hi", sound: true });
    expect(msg).toMatchObject({ status: "ok", data: { device: id } });
    const lost = await request("lost_mode", {
      device: "Jane's iPhone",
      text: "Lost phone",
      phone_number: "+15550100",
      passcode: "1234",
    });
    expect(lost).toMatchObject({ status: "ok", data: { device: id } });
    expect(lost.error ?? "").not.toContain("1234");
    const actions = probe.actions().slice(start);
    expect(actions.map((a) => [a.kind, a.device])).toEqual([
      ["playSound", id],
      ["sendMessage", id],
      ["lostDevice", id],
    ]);
    expect(actions[0]?.body).toMatchObject({ subject: "Find me" });
    expect(actions[1]?.body).toMatchObject({ text: "Call home", subject: "Hi", sound: true });
    expect(actions[2]?.body).toMatchObject({ text: "Lost phone", ownerNbr: "+15550100", passcode: "1234" });
    expect(await request("play_sound", { device: "Nobody's Phone" })).toMatchObject({
      status: "error",
      data: { code: "NOT_FOUND" },
    });
  });

  it("resend_mfa and choice are errors when no code is expected", async () => {
    expect(await request("resend_mfa", { method: "sms", phone_number_id: 1 })).toMatchObject({
      status: "error",
      data: { code: "INVALID_STATE" },
    });
    expect(await request("choice", { choice: "sms" })).toMatchObject({
      status: "error",
      data: { code: "INVALID_STATE" },
    });
  });

  it("reauthenticate with a valid trust token succeeds without a new code", async () => {
    const before = sim.stats(APPLE_ID);
    const response = await request("reauthenticate", { account: "jane" });
    expect(response).toMatchObject({ status: "ok", data: { session: "active", error: null } });
    expect(sim.stats(APPLE_ID).codes_sent).toEqual(before.codes_sent);
    await ha.waitFor((m) => m.topic === `${BASE}/jane/state` && state(m).state === "ready", 20_000);
    expect(ha.last(`${BASE}/jane/availability`)?.payload.toString()).toBe("online");
  });
});
