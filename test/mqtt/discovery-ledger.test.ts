import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import type { DeviceDiscovery } from "../../src/mqtt/discovery/types.ts";
import { DiscoveryLedger } from "../../src/mqtt/discovery-ledger.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "i2m-ledger-"));
  dirs.push(dir);
  return dir;
}

const payload = (cmps: Record<string, string>): DeviceDiscovery =>
  ({
    device: { identifiers: ["n"], name: "n", manufacturer: "Apple", model: "m" },
    origin: { name: "icloud2mqtt", sw: "0", url: "u" },
    cmps: Object.fromEntries(Object.entries(cmps).map(([key, p]) => [key, { p, unique_id: key }])),
  }) as unknown as DeviceDiscovery;

describe("discovery ledger", () => {
  it("remembers components across restarts (0600) and names the removed ones, a changed platform included", async () => {
    const dir = await stateDir();
    const first = await DiscoveryLedger.open(dir, "icloud2mqtt", silentLogger);
    first.record("node", payload({ tracker: "device_tracker", home: "binary_sensor", x: "sensor" }));
    await first.flush();
    const file = join(dir, "mqtt", "discovery-icloud2mqtt.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await DiscoveryLedger.open(dir, "icloud2mqtt", silentLogger);
    expect(second.nodes()).toEqual(["node"]);
    expect(second.tombstones("node", payload({ tracker: "device_tracker", x: "binary_sensor" }))).toEqual({
      home: { p: "binary_sensor" },
      x: { p: "sensor" },
    });
    expect(second.tombstones("other", payload({ a: "sensor" }))).toEqual({});
    second.forget("node");
    await second.flush();
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ version: 1, nodes: {} });
  });

  it("starts empty from an unreadable file, and keeps to memory without a state folder", async () => {
    const dir = await stateDir();
    const file = join(dir, "mqtt", "discovery-icloud2mqtt.json");
    const ledger = await DiscoveryLedger.open(dir, "icloud2mqtt", silentLogger);
    ledger.record("node", payload({ a: "sensor" }));
    await ledger.flush();
    await writeFile(file, "{not json");
    expect((await DiscoveryLedger.open(dir, "icloud2mqtt", silentLogger)).nodes()).toEqual([]);
    const memory = await DiscoveryLedger.open(undefined, "icloud2mqtt", silentLogger);
    memory.record("node", payload({ a: "sensor" }));
    expect(memory.tombstones("node", payload({}))).toEqual({ a: { p: "sensor" } });
  });
});
