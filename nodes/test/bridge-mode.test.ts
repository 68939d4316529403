/**
 * Bridge mode: the nodes in Node-RED 5.0 (test helper) talk to a real icloud2mqtt process over
 * Debian's mosquitto, through Node-RED's own mqtt-broker node. The code goes in through the mfa node,
 * devices come out, an action reaches the simulator, and a stopped bridge shows as grey "bridge
 * offline" (and its commands fail with BRIDGE_OFFLINE) until it is back.
 */
import type { SimulatorHandle } from "icloud2mqtt/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BridgeProcess, skipMosquitto, startBridge, startMosquitto } from "./support/bridge.ts";
import { enginePool, NODES } from "./support/nodes.ts";
import { type FlowNode, type RedRuntime, startRuntime } from "./support/red-runtime.ts";
import { cleanUp, handled, JANE, onCleanup, startAccountSimulator, tempDir, until } from "./support/world.ts";

type Msg = Record<string, unknown>;
const BASE = "i2m-node-red";

describe.skipIf(skipMosquitto)("bridge mode against a running icloud2mqtt", () => {
  let red: RedRuntime;
  let sim: SimulatorHandle;
  let bridge: BridgeProcess;
  const out: Record<"dev" | "mfa" | "act" | "catch", Msg[]> = { dev: [], mfa: [], act: [], catch: [] };

  beforeAll(async () => {
    sim = await startAccountSimulator();
    const broker = await startMosquitto();
    bridge = await startBridge({ sim, account: JANE, id: "jane", brokerUrl: broker.url, baseTopic: BASE });
    red = await startRuntime("node-red");
    onCleanup(async () => {
      await red.unload().catch(() => {});
      await enginePool.stopAll();
      await red.stop();
    });
    red.settings({ userDir: await tempDir("i2m-node-red-bridge-"), icloudAccountBridgeRetryMs: 500 });
    const z = "tab";
    const flow: FlowNode[] = [
      { id: z, type: "tab", label: "bridge" },
      {
        id: "broker",
        type: "mqtt-broker",
        broker: "127.0.0.1",
        port: String(broker.port),
        clientid: "node-red-bridge-test",
        autoConnect: true,
        usetls: false,
        protocolVersion: "4",
        keepalive: "60",
        cleansession: true,
      },
      { id: "acct", type: "icloud-account", mode: "bridge", broker: "broker", baseTopic: BASE, bridgeAccount: "jane" },
      { id: "dev", type: "icloud-device", z, account: "acct", device: "", wires: [["out-dev"]] },
      { id: "mfa", type: "icloud-mfa", z, account: "acct", wires: [["out-mfa"]] },
      { id: "act", type: "icloud-action", z, account: "acct", action: "msg", wires: [["out-act"]] },
      { id: "catch-all", type: "catch", z, scope: null, uncaught: false, wires: [["out-catch"]] },
      ...["out-dev", "out-mfa", "out-act", "out-catch"].map((id) => ({ id, type: "helper", z })),
    ];
    await red.load([...NODES, red.mqttNodes], flow);
    for (const key of ["dev", "mfa", "act", "catch"] as const) {
      red.node(`out-${key}`).on("input", (msg) => void out[key].push(msg));
    }
  }, 60_000);
  afterAll(cleanUp, 30_000);

  const latest = (id: string) => red.statuses(id).at(-1);

  it("takes the code from the mfa node and sends the bridge's devices", async () => {
    await until(
      () => latest("dev")?.text === "code needed (device)",
      "the yellow ring from the bridge's state",
      30_000,
    );
    expect(latest("act")).toEqual({ fill: "yellow", shape: "ring", text: "code needed (device)" });
    red.node("mfa").receive({ payload: JANE.code });
    await until(() => out.mfa.some((m) => m["topic"] === "mfa.result"), "the code's answer", 30_000);
    expect(out.mfa.find((m) => m["topic"] === "mfa.result")).toMatchObject({
      account: "jane",
      payload: { session: "active", awaiting: null },
    });
    await until(() => out.dev.length >= 2, "the devices over MQTT", 30_000);
    expect(out.dev.map((m) => (m["payload"] as { name: string }).name).sort()).toEqual([
      "Jane's iPad",
      "Jane's iPhone",
    ]);
    await until(() => latest("act")?.text === "ready", "ready", 30_000);
    expect(latest("dev")).toMatchObject({ fill: "green", text: "2 devices" });

    red.node("act").receive({ action: "play_sound", payload: { device: "Jane's iPhone" } });
    await until(() => out.act.length === 1 || out.catch.length > 0, "the sound's answer", 30_000);
    expect(out.catch).toEqual([]);
    expect(handled(sim, "fmip.playSound")).toBe(1);
    expect(sim.stats(JANE.appleId).srp_signins).toBe(1);
  });

  it("shows a stopped bridge as offline and refuses commands until it is back", async () => {
    await bridge.stop();
    await until(() => latest("dev")?.fill === "grey", "the grey ring", 15_000);
    expect(latest("act")).toEqual({ fill: "grey", shape: "ring", text: "bridge offline" });
    red.node("act").receive({ action: "play_sound", payload: { device: "Jane's iPhone" } });
    await until(() => out.catch.length === 1, "the refused command");
    expect(out.catch[0]).toMatchObject({ error: { code: "BRIDGE_OFFLINE", source: { id: "act" } } });

    bridge.start();
    await until(() => latest("act")?.text === "ready", "ready again", 30_000);
    expect(sim.stats(JANE.appleId).srp_signins).toBe(1);
  });
});
