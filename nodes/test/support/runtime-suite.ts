/**
 * The nodes in a real Node-RED runtime (node-red-node-test-helper) against the iCloud simulator:
 * sign-in with the code posted to the admin API, device/event/mfa messages, every action reaching
 * the simulator, errors reaching a Catch node, and redeploys and a restart without a new sign-in.
 * Run for Node-RED 5.0.x and 4.1.x by one test file each.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { SimulatorHandle } from "icloud2mqtt/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountIdFor } from "../../src/index.ts";
import { enginePool, NODES } from "./nodes.ts";
import { type FlowNode, type RedRuntime, type RuntimePackage, startRuntime } from "./red-runtime.ts";
import { cleanUp, handled, JANE, onCleanup, startAccountSimulator, tempDir, until } from "./world.ts";

type Msg = Record<string, unknown>;
const CREDENTIALS = { acct: { username: JANE.appleId, password: JANE.password } };
const SINKS = ["out-dev", "out-evt", "out-mfa", "out-act", "out-status", "out-catch"] as const;
type Sink = (typeof SINKS)[number];

/** The flow: every node of the package on one account, their outputs, a status node and a catch node. */
function flow(deviceName = "Jane's iPhone"): FlowNode[] {
  const z = "tab";
  return [
    { id: z, type: "tab", label: "iCloud" },
    { id: "acct", type: "icloud-account", name: "Jane", mode: "embedded", findmySchedule: "1h", photosSchedule: "1h" },
    {
      id: "dev",
      type: "icloud-device",
      z,
      account: "acct",
      device: deviceName,
      filter: "change",
      wires: [["out-dev"]],
    },
    {
      id: "evt",
      type: "icloud-events",
      z,
      account: "acct",
      calls: true,
      photos: true,
      syncFailed: true,
      codeNeeded: true,
      wires: [["out-evt"]],
    },
    { id: "mfa", type: "icloud-mfa", z, account: "acct", wires: [["out-mfa"]] },
    { id: "act", type: "icloud-action", z, account: "acct", action: "msg", allowLostMode: true, wires: [["out-act"]] },
    {
      id: "sound",
      type: "icloud-action",
      z,
      account: "acct",
      action: "play_sound",
      device: "Jane's iPhone",
      wires: [["out-act"]],
    },
    { id: "careful", type: "icloud-action", z, account: "acct", action: "msg", wires: [["out-act"]] },
    { id: "watch-status", type: "status", z, scope: ["dev", "evt", "mfa", "sound"], wires: [["out-status"]] },
    { id: "catch-all", type: "catch", z, scope: null, uncaught: false, wires: [["out-catch"]] },
    ...SINKS.map((id) => ({ id, type: "helper", z })),
  ];
}

export function runtimeSuite(runtime: RuntimePackage): void {
  describe(`the nodes in Node-RED (${runtime})`, () => {
    let red: RedRuntime;
    let sim: SimulatorHandle;
    let userDir: string;
    const received = new Map<Sink, Msg[]>();

    /** Collects what the sink nodes of the running flow receive (again after each deploy). */
    function collect(): void {
      for (const sink of SINKS) {
        const list: Msg[] = [];
        received.set(sink, list);
        red.node(sink).on("input", (msg) => void list.push(msg));
      }
    }
    const got = (sink: Sink): Msg[] => received.get(sink) ?? [];
    const statusOf = (id: string) =>
      got("out-status")
        .map((msg) => msg["status"] as { fill?: string; shape?: string; text?: string; source: { id: string } })
        .filter((status) => status.source.id === id);
    const signIns = () => sim.stats(JANE.appleId).srp_signins;

    beforeAll(async () => {
      sim = await startAccountSimulator();
      userDir = await tempDir("i2m-node-red-user-");
      red = await startRuntime(runtime);
      onCleanup(async () => {
        await red.unload().catch(() => {});
        await enginePool.stopAll();
        await red.stop();
      });
      red.settings({ userDir, icloudAccountEndpoint: sim.url, icloudAccountGraceMs: 60_000 });
    }, 60_000);
    afterAll(cleanUp, 30_000);

    it("answers 503 before the first deploy, then signs in with the code posted to the admin API", async () => {
      // The editor has the account node, the runtime not yet.
      // (The catch and status nodes come along: the helper registers core node types a flow uses on load.)
      await red.load(
        NODES,
        flow().filter((node) => ["tab", "catch", "status"].includes(node.type)),
      );
      const before = await red.get("/icloud2mqtt/accounts/acct");
      expect(before.status).toBe(503);
      expect(before.body).toMatchObject({ code: "NOT_DEPLOYED", error: expect.stringMatching(/^deploy first/) });
      expect((await red.post("/icloud2mqtt/accounts/acct/mfa", { code: JANE.code })).status).toBe(503);

      const comms: Array<{ topic: string; data: unknown }> = [];
      const onComms = (message: { topic: string; data: unknown }) => void comms.push(message);
      red.events.on("comms", onComms);
      await red.deploy(flow(), "full", CREDENTIALS);
      collect();

      await until(
        () => statusOf("dev").some((s) => s.fill === "yellow" && s.text === "code needed (device)"),
        "the device node's yellow ring",
      );
      // Every node of the account shows it; open editors are told (retained comms message).
      for (const id of ["evt", "mfa", "sound"]) {
        expect(statusOf(id).at(-1)).toMatchObject({ fill: "yellow", shape: "ring", text: "code needed (device)" });
      }
      expect(comms.some((m) => m.topic === "icloud2mqtt/accounts/acct" && hasState(m.data, "blocked"))).toBe(true);
      const asked = got("out-mfa").find((msg) => msg["topic"] === "mfa.required");
      expect(asked?.["payload"]).toEqual({
        account: accountIdFor(JANE.appleId),
        awaiting: "code",
        method: "device",
        trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••58", push_mode: "sms" }],
        choices: [],
      });
      const view = await red.get("/icloud2mqtt/accounts/acct");
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({ mode: "embedded", status: { fill: "yellow" }, state: { state: "blocked" } });
      expect(JSON.stringify(view.body)).not.toContain(JANE.password);

      const wrong = await red.post("/icloud2mqtt/accounts/acct/mfa", { code: "000000" });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({ code: "CODE_INVALID" });
      const right = await red.post("/icloud2mqtt/accounts/acct/mfa", { code: JANE.code });
      expect(right.status).toBe(200);
      expect(right.body).toMatchObject({ result: { session: "active", error: null, awaiting: null } });

      await until(() => got("out-dev").length > 0, "the device message");
      expect(got("out-dev")[0]).toMatchObject({
        topic: "Jane's iPhone",
        account: accountIdFor(JANE.appleId),
        payload: { data_type: "fmip.device", name: "Jane's iPhone", battery_percent: 57 },
      });
      await until(() => statusOf("dev").at(-1)?.fill === "green", "the device node's green status");
      expect(statusOf("dev").at(-1)).toMatchObject({
        fill: "green",
        shape: "dot",
        text: expect.stringMatching(/^57% · \d+ min ago$/),
      });
      await until(() => statusOf("sound").at(-1)?.text === "ready", "the action node's green status");
      expect(signIns()).toBe(1);
      red.events.off("comms", onComms);

      // Sessions live in the user folder, readable by Node-RED's user only.
      const folder = join(userDir, "icloud2mqtt", accountIdFor(JANE.appleId));
      expect((await stat(folder)).mode & 0o777).toBe(0o700);
      expect((await stat(join(userDir, "icloud2mqtt"))).mode & 0o777).toBe(0o700);
    });

    it("runs every action against the simulator", async () => {
      const act = red.node("act");
      const run = async (msg: Msg): Promise<Msg> => {
        const before = got("out-act").length;
        act.receive(msg);
        await until(
          () => got("out-act").length > before || got("out-catch").length > 0,
          `the answer to ${msg["action"]}`,
        );
        expect(got("out-catch")).toEqual([]);
        return got("out-act")[before] as Msg;
      };
      const sounds = handled(sim, "fmip.playSound");
      red.node("sound").receive({ payload: "" });
      await until(() => handled(sim, "fmip.playSound") === sounds + 1, "the sound on the simulated iPhone");
      await until(() => got("out-act").length === 1, "the play_sound answer");
      expect(got("out-act")[0]).toMatchObject({ action: "play_sound", payload: { device: expect.any(String) } });

      expect(
        await run({ action: "send_message", payload: { device: "Jane's iPad", text: "Dinner is ready" } }),
      ).toMatchObject({
        action: "send_message",
      });
      expect(handled(sim, "fmip.sendMessage")).toBe(1);
      await run({ action: "lost_mode", payload: { device: "Jane's iPad", text: "Lost", phone_number: "+1 555 0100" } });
      expect(handled(sim, "fmip.lostDevice")).toBe(1);
      const located = await run({ action: "locate", payload: { device: "Jane's iPhone" } });
      expect(located["payload"]).toMatchObject({ devices: expect.any(Array) });

      // New calls and photos appear after ten simulated minutes; a sync from a flow picks them up.
      sim.clock.advance(10 * 60_000 + 1_000);
      expect(await run({ action: "sync", payload: {} })).toMatchObject({ payload: { state: expect.any(String) } });
      await until(
        () =>
          got("out-evt").some((m) => m["topic"] === "call.new") &&
          got("out-evt").some((m) => m["topic"] === "photo.new"),
        "the new call and photo",
      );
      const call = got("out-evt").find((m) => m["topic"] === "call.new") as Msg;
      expect(["incoming", "outgoing", "missed"]).toContain(call["event"]);
      expect(call["payload"]).toMatchObject({ data_type: "callkit.call" });
      const photo = got("out-evt").find((m) => m["topic"] === "photo.new") as Msg;
      expect(photo).toMatchObject({ event: "new_photo", payload: { data_type: "icpl.asset" } });
      expect(Buffer.isBuffer(photo["thumbnail"])).toBe(true);
      expect((photo["thumbnail"] as Buffer).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    });

    it("hands failures to Catch nodes with the engine's code", async () => {
      red.node("act").receive({ action: "play_sound", payload: { device: "Nobody's phone" } });
      await until(() => got("out-catch").length === 1, "the first caught error");
      expect(got("out-catch")[0]).toMatchObject({ error: { code: "NOT_FOUND", source: { id: "act" } } });

      // Lost mode needs the node's opt-in, also when the action comes from the message.
      red.node("careful").receive({ action: "lost_mode", payload: { device: "Jane's iPad" } });
      await until(() => got("out-catch").length === 2, "the refused lost mode");
      expect(got("out-catch")[1]).toMatchObject({ error: { code: "INVALID_INPUT", source: { id: "careful" } } });
      expect(got("out-catch")[1]).toMatchObject({
        error: { message: expect.stringMatching(/lost mode is not allowed/) },
      });
      expect(handled(sim, "fmip.lostDevice")).toBe(1);

      red.node("act").receive({ action: "send_message", payload: { device: "Jane's iPad", text: "" } });
      red.node("mfa").receive({ payload: "12" });
      await until(() => got("out-catch").length === 4, "the invalid inputs");
      expect(
        got("out-catch")
          .slice(2)
          .map((m) => (m["error"] as { code: string }).code),
      ).toEqual(["INVALID_INPUT", "INVALID_INPUT"]);
      // A code while none is awaited is the engine's refusal, caught like any other.
      red.node("mfa").receive({ payload: "123 456" });
      await until(
        () => got("out-catch").length === 5 || got("out-mfa").some((m) => m["topic"] === "mfa.result"),
        "the mfa answer",
      );
      expect(got("out-catch")).toHaveLength(5);
    });

    it("keeps the one sign-in through full and modified-nodes deploys and a restart", async () => {
      expect(signIns()).toBe(1);
      const validates = sim.stats(JANE.appleId).validates;
      await red.deploy(flow(), "full", CREDENTIALS);
      collect();
      const latest = (id: string) => red.statuses(id).at(-1);
      await until(() => latest("sound")?.text === "ready", "ready after the first full deploy");
      await red.deploy(flow("Jane's iPad"), "nodes", CREDENTIALS);
      collect();
      await until(() => latest("dev")?.text?.startsWith("90%") === true, "the iPad's status after a nodes deploy");
      await red.deploy(flow(), "full", CREDENTIALS);
      collect();
      await until(() => latest("sound")?.text === "ready", "ready after the second full deploy");
      expect(signIns()).toBe(1);
      expect(sim.stats(JANE.appleId).validates).toBe(validates);
      expect(enginePool.size).toBe(1);

      // A restart: the flows stop, the process's engines end, a new runtime reads the stored session.
      await red.unload();
      await enginePool.stopAll();
      expect(enginePool.size).toBe(0);
      await red.load(NODES, flow(), CREDENTIALS);
      collect();
      await until(() => latest("sound")?.text === "ready", "ready after the restart");
      expect(signIns()).toBe(1);
      expect(sim.stats(JANE.appleId).validates).toBeGreaterThan(validates);
    });
  });
}

function hasState(data: unknown, state: string): boolean {
  return typeof data === "object" && data !== null && (data as { state?: { state?: string } }).state?.state === state;
}
