import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { AccountSnapshot } from "../../src/engine/api.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import { EngineError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { mqttJsConnection, RemoteEngine } from "../../src/remote/index.ts";
import { findMyProbe } from "../../src/simulator/findmy/index.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { type BridgeProcess, startBridgeProcess } from "../support/bridge-process.ts";
import { engineContract } from "../support/engine-contract.ts";
import { steadyDevice } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, startTestSimulator, type TestAccount, until } from "../support/harness.ts";
import { HaClient, json, skipMosquitto, startMosquitto, type TestBroker } from "../support/mqtt.ts";

/** RemoteEngine against a real icloud2mqtt process and Debian's mosquitto. */

const EVENTS: Array<keyof EngineEvents & string> = [
  "account.state",
  "mfa.required",
  "sync.failed",
  "device.updated",
  "device.removed",
  "photo.new",
  "photo.latest",
  "photo.count",
  "call.new",
  "call.last",
];

/** Every event the engine emits, in order. */
function recordEvents(remote: RemoteEngine): Array<{ event: string; payload: unknown }> {
  const seen: Array<{ event: string; payload: unknown }> = [];
  const on = remote.bus.on.bind(remote.bus) as (owner: object, event: string, listener: (p: unknown) => void) => void;
  for (const event of EVENTS) on(seen, event, (payload) => void seen.push({ event, payload }));
  return seen;
}

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; ctx: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; ctx: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (msg: string, ctx: Record<string, unknown> = {}) =>
      void lines.push({ level, msg, ctx });
  const log = { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log };
  return log;
}

async function failure(call: Promise<unknown>): Promise<EngineError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error("expected the call to fail");
}

describe.skipIf(skipMosquitto)("RemoteEngine", () => {
  engineContract(
    "RemoteEngine (icloud2mqtt process, mosquitto)",
    async (world) => {
      const broker = await startMosquitto();
      onCleanup(() => broker.close());
      await startBridgeProcess({ ...world, brokerUrl: broker.url });
      // Connects before the bridge has published anything: start() waits for it.
      const remote = await RemoteEngine.connect({ url: broker.url, startTimeoutMs: 30_000 });
      onCleanup(() => remote.stop());
      return remote;
    },
    "20000000502",
  );

  describe("a bridge that goes away and a broker that restarts", () => {
    const DSID = "20000000503";
    const ACCOUNT: TestAccount = { appleId: "jo@example.com", password: "remote-failures", code: "317529", dsid: DSID };
    const BASE = "icloud2mqtt";
    let sim: SimulatorHandle;
    let broker: TestBroker;
    let bridge: BridgeProcess;
    let remote: RemoteEngine;
    /** The remote engine's connection: a client the test owns, handed in as front-ends hand in theirs. */
    let client: MqttClient;
    let ha: HaClient;
    const log = recordingLogger();

    const steady = (name: string, model: string, kind: string) =>
      steadyDevice(name, model, kind, 0.6, { latitude: 52.37, longitude: 4.89, age: "3m" });

    beforeAll(async () => {
      sim = await startTestSimulator(ACCOUNT, {
        findmy: {
          first_name: "Jo",
          devices: [steady("Jo's iPhone", "iPhone16,1", "iPhone"), steady("Jo's iPad", "iPad13,16", "iPad")],
        },
        photos: { count: 3, seed: 5 },
        calls: { generate: { count: 2, seed: 5 } },
      });
      broker = await startMosquitto();
      onCleanup(() => broker.close());
      bridge = await startBridgeProcess({
        sim,
        account: ACCOUNT,
        id: "jo",
        settings: { findmy: { family: false } },
        brokerUrl: broker.url,
      });
      client = await mqtt.connectAsync(broker.url, { clientId: "remote-failures", reconnectPeriod: 200 });
      onCleanup(() => client.endAsync(true));
      remote = new RemoteEngine({
        connection: mqttJsConnection(client),
        logger: log,
        startTimeoutMs: 30_000,
        // Long enough that a command waiting for an answer would stall the test instead of failing fast.
        commandTimeoutMs: 60_000,
      });
      await remote.start();
      onCleanup(() => remote.stop());
      ha = await HaClient.connect(broker.url, [`${BASE}/bridge/request/#`]);
      onCleanup(() => ha.close());
      await until(() => remote.snapshot("jo").state.state === "blocked", "the code request", 30_000);
      await remote.execute("mfa", { code: ACCOUNT.code });
      await until(
        () => remote.snapshot("jo").findmy.devices.length === 2 && remote.snapshot("jo").calls.last !== null,
        "the first sync",
        30_000,
      );
    }, 90_000);

    afterAll(async () => {
      await cleanUp();
    });

    it("sends each request once, QoS 1 and not retained, with a transaction of its own", async () => {
      const from = ha.messages.length;
      await remote.execute("play_sound", { device: "Jo's iPhone" });
      await remote.execute("play_sound", { account: "jo", device: "Jo's iPad", subject: "Here" });
      const requests = ha.messages.slice(from);
      expect(requests.map((m) => [m.topic, m.retain])).toEqual([
        [`${BASE}/bridge/request/play_sound`, false],
        [`${BASE}/bridge/request/play_sound`, false],
      ]);
      const [first, second] = requests.map((m) => json(m) as Record<string, unknown>);
      expect(first).toEqual({ device: "Jo's iPhone", transaction: expect.stringMatching(/^remote-[0-9a-f]+-\d+$/) });
      expect(second).toEqual({ account: "jo", device: "Jo's iPad", subject: "Here", transaction: expect.any(String) });
      expect(first?.["transaction"]).not.toEqual(second?.["transaction"]);
      // Invalid input never leaves the process.
      expect((await failure(remote.execute("play_sound", {} as never))).code).toBe("INVALID_INPUT");
      expect(ha.messages).toHaveLength(from + 2);
    });

    it("ignores malformed retained payloads (logged at debug): snapshot and events unchanged", async () => {
      const before = remote.snapshot("jo");
      const events = recordEvents(remote);
      const writer = await HaClient.connect(broker.url, []);
      onCleanup(() => writer.close());
      const iphone = before.findmy.devices.find((d) => d.name === "Jo's iPhone");
      const garbage: Array<[string, string]> = [
        [`${BASE}/jo/devices/bogus`, "{not json"],
        // A valid device on another device's topic.
        [`${BASE}/jo/devices/bogus2`, JSON.stringify(iphone)],
        [`${BASE}/jo/calls/last`, JSON.stringify({ data_type: "callkit.call" })],
        [`${BASE}/jo/photos/count`, "many"],
        [`${BASE}/jo/photos/latest/thumbnail`, "not a jpeg"],
        [`${BASE}/jo/state`, JSON.stringify({ account: "jo", state: "exploded" })],
        [`${BASE}/bridge/info`, JSON.stringify({ version: 7 })],
      ];
      for (const [topic, payload] of garbage) await writer.publish(topic, payload, true);
      const ignored = () => log.lines.filter((l) => l.level === "debug" && l.msg === "ignoring an invalid payload");
      await until(() => garbage.every(([topic]) => ignored().some((l) => l.ctx["topic"] === topic)), "the debug lines");
      expect(remote.snapshot("jo")).toEqual(before);
      expect(remote.accounts().map((a) => a.id)).toEqual(["jo"]);
      expect(remote.version).not.toBe("");
      expect(events).toEqual([]);
      // Never quoted: the reason names the problem, not the payload.
      for (const line of ignored()) expect(JSON.stringify(line.ctx)).not.toContain("not a jpeg");
      // The bridge's own state (forced on its next connect) replaces the garbage; these two are removed.
      await writer.publish(`${BASE}/jo/devices/bogus`, "", true);
      await writer.publish(`${BASE}/jo/devices/bogus2`, "", true);
    });

    it("a stopped bridge: offline at once, commands fail without being sent; back again: commands work", async () => {
      const events = recordEvents(remote);
      const probe = findMyProbe(DSID);
      const before = remote.snapshot("jo");
      expect(remote.online).toBe(true);

      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        // SIGTERM: the bridge publishes offline itself; SIGKILL: the broker publishes its last will.
        await bridge.stop(signal);
        await until(() => !remote.online, `offline after ${signal}`);
        const from = ha.messages.length;
        const error = await failure(remote.execute("play_sound", { device: "Jo's iPhone" }));
        expect(error).toMatchObject({ code: "BRIDGE_OFFLINE", retryable: true });
        expect(error.message).toMatch(/icloud2mqtt is offline/);
        expect(ha.messages).toHaveLength(from);
        // The last values stay readable.
        expect(remote.snapshot("jo").findmy).toEqual(before.findmy);

        const restartedAt = events.length;
        await bridge.start();
        // The retained state from before the stop stays until the new process has restored its session.
        const active = () =>
          events
            .slice(restartedAt)
            .some((e) => e.event === "account.state" && (e.payload as AccountState).session.state === "active");
        await until(() => remote.online && active(), "online and signed in again", 30_000);
        const actions = probe.actions().length;
        const iphone = before.findmy.devices.find((d) => d.name === "Jo's iPhone");
        expect(await remote.execute("play_sound", { device: "Jo's iPhone" })).toEqual({ device: iphone?.id });
        expect(
          probe
            .actions()
            .slice(actions)
            .map((a) => a.kind),
        ).toEqual(["playSound"]);
      }
      // The restarts went through states the bridge published (resumed sessions: no new code).
      expect(events.some((e) => e.event === "account.state")).toBe(true);
      expect(events.filter((e) => e.event === "mfa.required")).toEqual([]);
      expect(sim.stats(ACCOUNT.appleId).codes_sent).toMatchObject({ device: 1, sms: 0, voice: 0 });
    }, 90_000);

    it("a broker restart: commands fail while it is down; afterwards the state is rebuilt and commands work", async () => {
      const before: AccountSnapshot = remote.snapshot("jo");
      const iphone = before.findmy.devices.find((d) => d.name === "Jo's iPhone");
      if (iphone === undefined) throw new Error("no iPhone");
      // What the remote engine knows differs from the bridge (as if it missed a change): the rebuild must fix it.
      const writer = await HaClient.connect(broker.url, []);
      const tampered = { ...iphone, battery_percent: 3, battery_level: 0.03 };
      await writer.publish(`${BASE}/jo/devices/${iphone.slug}`, JSON.stringify(tampered), true);
      await writer.close();
      await until(
        () => remote.snapshot("jo").findmy.devices.some((d) => d.battery_percent === 3),
        "the tampered device",
      );
      const events = recordEvents(remote);
      await broker.close();
      await until(() => !client.connected && !remote.online, "the lost connection");
      const error = await failure(remote.execute("locate", {}));
      expect(error).toMatchObject({ code: "BRIDGE_OFFLINE", message: expect.stringMatching(/no connection/) });

      broker = await startMosquitto(broker.port);
      onCleanup(() => broker.close());
      await until(() => remote.online, "the bridge online again", 30_000);
      // Retained messages were lost with the broker (no persistence); the bridge sends them again.
      await until(
        () => remote.snapshot("jo").findmy.devices.every((d) => d.battery_percent !== 3),
        "the rebuild",
        15_000,
      );
      const after = remote.snapshot("jo");
      expect(after.findmy).toEqual(before.findmy);
      expect(after.photos).toEqual(before.photos);
      expect(after.calls).toEqual(before.calls);
      expect(after.state.state).toBe("ready");
      // Only what differs from the bridge's republished state is announced.
      expect(events.filter((e) => e.event !== "account.state")).toEqual([
        { event: "device.updated", payload: { account: "jo", device: iphone } },
      ]);
      expect(await remote.execute("play_sound", { device: "Jo's iPhone" })).toEqual({ device: iphone.id });
      // A remote engine that starts now builds the same snapshot from the retained topics.
      const fresh = await RemoteEngine.connect({ url: broker.url });
      onCleanup(() => fresh.stop());
      expect(fresh.accounts()).toEqual(remote.accounts());
      expect(fresh.snapshot("jo")).toEqual(remote.snapshot("jo"));
    }, 90_000);
  });

  describe("answers it cannot get, and answers it cannot use", () => {
    const BASE = "fakebridge";
    let broker: TestBroker;
    let bridge: HaClient;
    let remote: RemoteEngine;
    /** How the fake bridge answers the next request, by command. */
    const answers = new Map<string, (transaction: unknown) => unknown>();

    beforeAll(async () => {
      broker = await startMosquitto();
      onCleanup(() => broker.close());
      // A stand-in for the bridge on the same wire: retained info and states, answers as scripted.
      bridge = await HaClient.connect(broker.url, [`${BASE}/bridge/request/+`]);
      onCleanup(() => bridge.close());
      const { fakeAccountState } = await import("../../src/testing/fixtures.ts");
      await bridge.publish(
        `${BASE}/bridge/info`,
        JSON.stringify({
          version: "9.9.9",
          commands: [],
          accounts: [{ id: "ghost", username: "g***@example.com", services: { findmy: true, photos: false } }],
        }),
        true,
      );
      await bridge.publish(`${BASE}/bridge/state`, JSON.stringify({ state: "online" }), true);
      await bridge.publish(`${BASE}/ghost/state`, JSON.stringify(fakeAccountState("ghost")), true);
      bridge.client.on("message", (topic, payload) => {
        const command = topic.split("/").at(-1) ?? "";
        const answer = answers.get(command);
        if (answer === undefined) return;
        const { transaction } = JSON.parse(payload.toString("utf8")) as { transaction: unknown };
        void bridge.publish(`${BASE}/bridge/response/${command}`, JSON.stringify(answer(transaction)));
      });
      remote = await RemoteEngine.connect({
        url: broker.url,
        baseTopic: BASE,
        timeouts: { play_sound: 300, send_message: 1_500 },
      });
      onCleanup(() => remote.stop());
    }, 30_000);

    afterAll(cleanUp);

    it("reads accounts, services and version from bridge/info", () => {
      expect(remote.version).toBe("9.9.9");
      expect(remote.accounts()).toEqual([
        {
          id: "ghost",
          username: "g***@example.com",
          services: {
            findmy: true,
            photos: false,
            calls: false,
            contacts: false,
            calendar: false,
            notes: false,
            safari: false,
          },
        },
      ]);
      expect(remote.snapshot().state.account).toBe("ghost");
      expect(remote.logs(undefined, "debug")).toEqual([]);
    });

    it("a request nobody answers fails with BRIDGE_TIMEOUT after the command's timeout", async () => {
      const from = bridge.messages.length;
      const error = await failure(remote.execute("play_sound", { device: "x" }));
      expect(error).toMatchObject({ code: "BRIDGE_TIMEOUT", retryable: false, info: { timeout_ms: 300 } });
      expect(error.message).toMatch(/did not answer 'play_sound' within 0.3 s/);
      expect(bridge.messages.slice(from).map((m) => m.topic)).toEqual([`${BASE}/bridge/request/play_sound`]);
    });

    it("rebuilds the bridge's errors; unknown codes and results that do not parse are UNEXPECTED_RESPONSE", async () => {
      answers.set("lost_mode", (transaction) => ({
        status: "error",
        data: { code: "RATE_LIMITED", retryable: false, info: { retry_after: 30 } },
        error: "Apple asks to slow down",
        transaction,
      }));
      const limited = await failure(remote.execute("lost_mode", { device: "x" }));
      expect(limited).toMatchObject({ code: "RATE_LIMITED", message: "Apple asks to slow down", retryable: false });
      expect(limited.info).toEqual({ retry_after: 30 });
      expect(limited.retryAfter).toBe(30);

      answers.set("lost_mode", (transaction) => ({
        status: "error",
        data: { code: "FROM_THE_FUTURE", retryable: true, info: {} },
        error: "something new",
        transaction,
      }));
      expect(await failure(remote.execute("lost_mode", { device: "x" }))).toMatchObject({
        code: "UNEXPECTED_RESPONSE",
        retryable: true,
        info: { code: "FROM_THE_FUTURE" },
      });

      answers.set("locate", (transaction) => ({ status: "ok", data: { devices: [{ id: 1 }] }, transaction }));
      expect(await failure(remote.execute("locate", {}))).toMatchObject({ code: "UNEXPECTED_RESPONSE" });

      // Someone else's response on the same topic is not ours.
      answers.set("send_message", (transaction) => ({
        status: "ok",
        data: { device: "dev-9" },
        transaction: `${String(transaction)}-other`,
      }));
      const pending = remote.execute("send_message", { device: "x", text: "hi" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      answers.set("send_message", (transaction) => ({ status: "ok", data: { device: "dev-9" }, transaction }));
      // The first request is still waiting; a second one gets the answer meant for it.
      expect(await remote.execute("send_message", { device: "x", text: "hi" })).toEqual({ device: "dev-9" });
      expect((await failure(pending)).code).toBe("BRIDGE_TIMEOUT");
    }, 60_000);

    it("commands after stop() fail with BRIDGE_OFFLINE; start() without any bridge names the problem", async () => {
      const nobody = RemoteEngine.connect({ url: broker.url, baseTopic: "nobody", startTimeoutMs: 300 });
      const error = await failure(nobody);
      expect(error.code).toBe("BRIDGE_OFFLINE");
      expect(error.message).toMatch(/no icloud2mqtt found: nothing on nobody\/bridge\/info within 0.3 s/);
      const unreachable = await failure(RemoteEngine.connect({ url: "mqtt://127.0.0.1:1", startTimeoutMs: 2_000 }));
      expect(unreachable.code).toBe("BRIDGE_OFFLINE");
      expect(unreachable.message).toMatch(/cannot connect to the MQTT broker at mqtt:\/\/127\.0\.0\.1:1/);
      await remote.stop();
      expect((await failure(remote.execute("locate", {}))).code).toBe("BRIDGE_OFFLINE");
    });
  });
});
