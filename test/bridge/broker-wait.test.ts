import { afterEach, describe, expect, it } from "vitest";
import { startTestBridge, testConfig, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, startTestSimulator, type TestAccount, tempDir, until } from "../support/harness.ts";
import { recordingLogger } from "../support/logger.ts";
import { freePort, HaClient, skipMosquitto, startMosquitto } from "../support/mqtt.ts";

const ACCOUNT: TestAccount = { appleId: "waits@example.com", password: "broker-wait-password", code: "864209" };

afterEach(cleanUp);

describe.skipIf(skipMosquitto)("icloud2mqtt run before the broker is up (docker-compose, Home Assistant boot)", () => {
  it("starts anyway, signs in meanwhile, logs the outage once, and publishes everything when the broker comes", async () => {
    const sim = await startTestSimulator(ACCOUNT, { mfa: { kind: "hsa2", code: ACCOUNT.code } });
    const dir = await tempDir("i2m-broker-wait-");
    const port = await freePort();
    const config = await testConfig({
      sim,
      dir,
      account: ACCOUNT,
      id: "jane",
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
      mqtt: { url: `mqtt://127.0.0.1:${port}` },
    });
    const log = recordingLogger();
    const bridge = await startTestBridge(config, log);
    onCleanup(() => bridge.stop());
    // The engine runs without the broker: it signed in and waits for the code.
    await until(() => bridge.engine.snapshot("jane").state.state === "blocked", "blocked on the code");
    await sleep(1_000);
    const broker = await startMosquitto(port);
    onCleanup(() => broker.close());
    const ha = await HaClient.connect(broker.url);
    onCleanup(() => ha.close());
    await waitForState(ha, "icloud2mqtt/jane/state", "blocked", 10_000);
    expect(log.at("warn").filter((l) => /MQTT broker not reachable yet/.test(l.msg))).toHaveLength(1);
    expect(log.at("error")).toEqual([]);
  });
});
