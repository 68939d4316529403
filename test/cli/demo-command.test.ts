import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, tempDir } from "../support/harness.ts";
import { killAll, spawnNode } from "../support/processes.ts";

afterEach(async () => {
  await killAll();
  await cleanUp();
});

describe("icloud2mqtt demo", () => {
  it("with --mqtt-port 0 prints the port the embedded broker actually bound", async () => {
    const dir = await tempDir("i2m-demo-cli-");
    const demo = spawnNode(["src/cli/main.ts", "demo", "--mqtt-port", "0", "--http-port", "0", "--state-dir", dir], {
      ICLOUD2MQTT_CONFIG: "",
      ICLOUD2MQTT_STATE_DIR: "",
    });
    const listening = await demo.waitFor(/embedded MQTT broker listening at mqtt:\/\/[\d.]+:\d+/, "the broker");
    const bound = Number(/listening at mqtt:\/\/[\d.]+:(\d+)/.exec(listening)?.[1]);
    expect(bound).toBeGreaterThan(0);
    const hint = await demo.waitFor(/mosquitto_pub/, "the demo's hint");
    expect(hint).toContain(`mosquitto_pub -p ${bound} -t `);
    expect(hint).toContain(`mosquitto_sub -p ${bound} -v -t '#'`);
    expect(hint).not.toContain("-p 0 ");
    demo.kill("SIGTERM");
    expect(await demo.exited).toBe(0);
  }, 30_000);
});
