import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, DEMO_SCENARIO, DEMO_SERVICES } from "../../src/cli/demo-command.ts";
import { resolveConfig } from "../../src/config/load.ts";
import { topicKey } from "../../src/mqtt/topics.ts";
import { VERSION } from "../../src/version.ts";
import { startTestBridge, waitForState } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, sleep, startScenario, tempDir } from "../support/harness.ts";
import { HaClient, json, type Received } from "../support/mqtt.ts";

const BIOME = fileURLToPath(new URL("../../node_modules/@biomejs/biome/bin/biome", import.meta.url));
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "..", "golden", "bridge", "demo-discovery.json");

/** Keys sorted at every level; the version is a placeholder so a release does not touch the golden. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value === VERSION) return "<version>";
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, stable(v)]),
    );
  return value;
}

/** Compares with the golden file; `UPDATE_GOLDEN=1` (or a missing file outside CI) rewrites it. */
function expectGolden(value: unknown): void {
  const actual = stable(value);
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(GOLDEN)) {
    if (process.env["CI"] !== undefined && process.env["UPDATE_GOLDEN"] !== "1")
      throw new Error(`missing golden ${GOLDEN}`);
    mkdirSync(dirname(GOLDEN), { recursive: true });
    writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 2)}\n`);
    execFileSync(process.execPath, [BIOME, "format", "--write", GOLDEN], { stdio: "ignore" });
  }
  const golden: unknown = JSON.parse(readFileSync(GOLDEN, "utf8"));
  expect(actual).toEqual(golden);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(golden));
}

afterAll(cleanUp);

const B = "icloud2mqtt";
const isConfig = (m: Received) => m.topic.startsWith("homeassistant/device/") && m.payload.length > 0;

describe("demo: from start to discovered entities", () => {
  it("the demo scenario, signed in with the code its iPhone shows, is fully discovered (golden)", async () => {
    const sim = await startScenario(DEMO_SCENARIO);
    const stateDir = await tempDir("i2m-demo-");
    const { config } = await resolveConfig({
      state_dir: stateDir,
      // As `icloud2mqtt demo` configures it, minus the web UI and with a free broker port.
      accounts: [
        {
          ...DEMO_ACCOUNT,
          endpoint: sim.url,
          ...DEMO_SERVICES,
        },
      ],
      mqtt: { url: null, embedded_broker: { host: "127.0.0.1", port: 0 } },
      http: { enabled: false },
    });
    const bridge = await startTestBridge(config);
    onCleanup(() => bridge.stop());
    const client = await HaClient.connect(bridge.broker?.url ?? "");
    onCleanup(() => client.close());
    await waitForState(client, `${B}/demo/state`, "blocked", 20_000);
    const code = sim.deviceCode(DEMO_ACCOUNT.username)?.code;
    expect(code).toMatch(/^\d{6}$/);
    await client.publish(`${B}/bridge/request/mfa`, JSON.stringify({ account: "demo", code }));
    await client.waitFor((m) => m.topic === `${B}/demo/availability` && m.payload.toString() === "online", 20_000);
    await client.waitFor((m) => m.topic === `${B}/demo/calls/last`, 25_000);
    await client.waitFor((m) => m.topic === `${B}/demo/photos/count`, 25_000);
    await client.waitFor((m) => m.topic.startsWith(`${B}/demo/devices/`), 25_000);
    await client.waitFor((m) => m.topic === `${B}/demo/contacts/birthdays_today`, 25_000);
    await client.waitFor((m) => m.topic === `${B}/demo/calendar/next`, 25_000);
    await client.waitFor((m) => m.topic === `${B}/demo/notes/count`, 25_000);
    await waitForState(client, `${B}/demo/state`, "ready", 25_000);
    await sleep(500);

    // One retained discovery config per Apple device with a state topic, plus the bridge and the account.
    const devices = new Set(
      client.messages.filter((m) => m.topic.startsWith(`${B}/demo/devices/`)).map((m) => m.topic),
    );
    const configs = new Map<string, unknown>();
    for (const m of client.messages.filter(isConfig)) configs.set(m.topic, json(m));
    const deviceConfigs = [...configs.keys()].filter((t) => t.includes("_device_demo_"));
    expect(deviceConfigs).toHaveLength(devices.size);
    expect(configs.size).toBe(devices.size + 2);
    for (const topic of devices) {
      // Topics carry the friendly name, discovery the (hashed) Apple id.
      const device = json(client.last(topic)) as { id: string; slug: string };
      expect(topic).toBe(`${B}/demo/devices/${device.slug}`);
      expect(deviceConfigs).toContain(`homeassistant/device/icloud2mqtt_device_demo_${topicKey(device.id)}/config`);
    }
    expectGolden(Object.fromEntries([...configs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))));
  }, 60_000);
});
