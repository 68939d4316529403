import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { SimulatorHandle } from "icloud2mqtt/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlClient } from "../src/control/control-client.ts";
import { APPLE_ID, CODE, startTestSimulator, testAccount, until } from "./support/simulator.ts";

/**
 * The packed plugin in a real Homebridge (the CLI of the `homebridge` devDependency), as a child
 * bridge in insecure mode (`-I`), read and written over HAP's HTTP JSON API. `npm pack` builds and
 * packs the engine and the plugin; the tarballs are unpacked into a plugin folder whose other
 * dependencies link to this checkout's node_modules (no registry needed).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The Homebridge CLIs tested: the devDependencies `homebridge` (2.x) and `homebridge-1` (1.11). */
const CLIS = [
  { label: "Homebridge 2.4", bin: join(ROOT, "node_modules", "homebridge", "bin", "homebridge.js") },
  { label: "Homebridge 1.11", bin: join(ROOT, "node_modules", "homebridge-1", "bin", "homebridge") },
];
const PIN = "031-45-154";
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}` };
const run = promisify(execFile);

let work: string;
let plugins: string;
let sim: SimulatorHandle;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `npm pack` of the engine and the plugin, unpacked as an install would lay them out. */
async function installPacked(): Promise<string> {
  const packs = join(work, "packs");
  await mkdir(packs);
  const pack = async (args: string[]) => {
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", packs, ...args], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    const json = JSON.parse(stdout.slice(stdout.lastIndexOf("\n[") + 1)) as Array<{ name: string; filename: string }>;
    return json[0] as { name: string; filename: string };
  };
  // The plugin builds against the engine's built declarations, so the engine is packed first.
  const engine = await pack([]);
  const plugin = await pack(["--workspace", "homebridge-plugin"]);
  const modules = join(work, "plugins", "node_modules");
  for (const { name, filename } of [engine, plugin]) {
    const target = join(modules, name);
    await mkdir(target, { recursive: true });
    await run("tar", ["-xzf", join(packs, filename), "-C", target, "--strip-components=1"]);
  }
  const manifests = await Promise.all(
    [engine, plugin].map(async ({ name }) => JSON.parse(await readFile(join(modules, name, "package.json"), "utf8"))),
  );
  const dependencies = new Set(
    manifests.flatMap((m: { dependencies?: Record<string, string> }) => Object.keys(m.dependencies ?? {})),
  );
  dependencies.delete("icloud2mqtt");
  for (const dependency of dependencies) {
    const link = join(modules, dependency);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(ROOT, "node_modules", dependency), link, "dir");
  }
  return modules;
}

interface Homebridge {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
}

function startHomebridge(bin: string, storage: string): Homebridge {
  const child = spawn(
    process.execPath,
    [bin, "-I", "-T", "-Q", "-U", storage, "-P", plugins, "--strict-plugin-resolution"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, output: () => output, exited };
}

/** SIGTERM, then the time until Homebridge (and its child bridges) exited. */
async function stop(hb: Homebridge): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  hb.child.kill("SIGTERM");
  const timer = setTimeout(() => hb.child.kill("SIGKILL"), 20_000);
  const { code, at } = await hb.exited;
  clearTimeout(timer);
  return { code, ms: at - sent };
}

async function writeConfig(storage: string, bridgePort: number, platform: Record<string, unknown>): Promise<void> {
  await mkdir(storage, { recursive: true });
  const config = {
    bridge: {
      name: "Test Bridge",
      username: "CC:22:3D:E3:CE:31",
      port: bridgePort,
      pin: PIN,
      advertiser: "ciao",
      bind: ["lo"],
    },
    accessories: [],
    platforms: [platform],
  };
  await writeFile(join(storage, "config.json"), JSON.stringify(config, null, 2));
}

interface HapCharacteristic {
  iid: number;
  type: string;
  value?: unknown;
  description?: string;
}
interface HapAccessory {
  aid: number;
  services: Array<{ iid: number; type: string; characteristics: HapCharacteristic[] }>;
}

const NAME = "23";
const hapType = (uuid: string) =>
  uuid
    .replace(/^0+/, "")
    .replace(/-0000-1000-8000-0026BB765291$/i, "")
    .toUpperCase();

async function hap(port: number, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { authorization: PIN, "content-type": "application/hap+json", ...(init.headers ?? {}) },
  });
}

/** `{accessory name: {service name: {characteristic description: value}}}` from GET /accessories. */
async function readBridge(
  port: number,
): Promise<{ tree: Record<string, Record<string, Record<string, unknown>>>; raw: HapAccessory[] }> {
  const response = await hap(port, "/accessories");
  const { accessories } = (await response.json()) as { accessories: HapAccessory[] };
  const tree: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const accessory of accessories) {
    const services: Record<string, Record<string, unknown>> = {};
    let accessoryName = String(accessory.aid);
    for (const service of accessory.services) {
      const name = String(
        service.characteristics.find((c) => hapType(c.type) === NAME)?.value ?? hapType(service.type),
      );
      if (hapType(service.type) === "3E") accessoryName = name;
      services[name] = Object.fromEntries(
        service.characteristics.map((c) => [c.description ?? hapType(c.type), c.value]),
      );
    }
    tree[accessoryName] = services;
  }
  return { tree, raw: accessories };
}

function iidOf(raw: HapAccessory[], accessoryName: string, serviceName: string, characteristic: string) {
  for (const accessory of raw) {
    const info = accessory.services.find((s) => hapType(s.type) === "3E");
    if (info?.characteristics.find((c) => hapType(c.type) === NAME)?.value !== accessoryName) continue;
    for (const service of accessory.services) {
      if (service.characteristics.find((c) => hapType(c.type) === NAME)?.value !== serviceName) continue;
      const found = service.characteristics.find((c) => c.description === characteristic);
      if (found) return { aid: accessory.aid, iid: found.iid };
    }
  }
  throw new Error(`no ${accessoryName} / ${serviceName} / ${characteristic}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "i2m-hb-cli-"));
  plugins = await installPacked();
  sim = await startTestSimulator();
}, 240_000);

afterAll(async () => {
  await sim?.close();
  await rm(work, { recursive: true, force: true });
});

describe.each(CLIS)("the packed plugin in the real $label CLI", ({ bin, label }) => {
  it("runs as a child bridge: HAP reads and writes, SIGTERM within 12 s, restart on the same ports from the cache", async () => {
    const storage = join(work, `storage ${label}`);
    const [bridgePort, childPort] = [await freePort(), await freePort()];
    await writeConfig(storage, bridgePort, {
      platform: "iCloud2MQTT",
      name: "iCloud",
      accounts: [testAccount(sim)],
      _bridge: { username: "0E:4F:1B:2C:3D:4E", port: childPort },
    });
    const first = startHomebridge(bin, storage);
    let stopped = false;
    try {
      const pluginDir = join(storage, "icloud2mqtt");
      await until(
        async () => (await ControlClient.find(pluginDir))?.state.accounts[0]?.state.state === "blocked",
        "the code request",
        45_000,
      );
      const control = await ControlClient.find(pluginDir);
      await control?.client.execute("mfa", { account: "hb", code: CODE });

      await until(
        async () => {
          const response = await hap(childPort, "/accessories").catch(() => undefined);
          if (response?.status !== 200) return false;
          return ((await response.json()) as { accessories: unknown[] }).accessories.length === 6;
        },
        "the child bridge's accessories",
        30_000,
      );
      const { tree, raw } = await readBridge(childPort);
      // The bridge itself ("iCloud" plus a suffix from its user name) and the plugin's five accessories.
      const names = Object.keys(tree).filter((name) => !/^iCloud [0-9A-F]{4}$/.test(name));
      expect(names.sort()).toEqual(["Hb's Mac", "Hb's iPad", "Hb's iPhone", "Keys AirTag", "iCloud hb"]);
      expect(tree["Hb's iPhone"]).toMatchObject({
        // HAP's JSON carries booleans as 1 and 0.
        Home: { "Occupancy Detected": 1, "Status Active": 1 },
        Battery: { "Battery Level": 15, "Charging State": 0, "Status Low Battery": 1 },
        "Play sound": { On: 0 },
      });
      expect(tree["iCloud hb"]).toMatchObject({
        "Anyone home": { "Occupancy Detected": 1 },
        "iCloud sign-in": { "Contact Sensor State": 0, "Status Fault": 0 },
        "Sync now": { On: 0 },
      });

      // Writing "Play sound" over HAP plays the sound (recorded by the simulator).
      const before = sim.requests().length;
      const sounds = () =>
        sim
          .requests()
          .slice(before)
          .filter((r) => r.route === "fmip.playSound");
      const play = iidOf(raw, "Hb's iPhone", "Play sound", "On");
      const write = await hap(childPort, "/characteristics", {
        method: "PUT",
        body: JSON.stringify({ characteristics: [{ ...play, value: true }] }),
      });
      expect([204, 207]).toContain(write.status);
      expect(sounds().map((r) => r.status)).toEqual([200]);
      const read = await hap(childPort, `/characteristics?id=${play.aid}.${play.iid}`);
      expect(((await read.json()) as { characteristics: Array<{ value: unknown }> }).characteristics[0]?.value).toBe(1);

      const { code, ms } = await stop(first);
      stopped = true;
      expect(ms).toBeLessThan(12_000);
      expect([0, 143]).toContain(code);
      expect(first.output()).not.toMatch(/unhandled|uncaught/i);
    } finally {
      if (!stopped) await stop(first);
    }
    expect(existsSync(join(storage, "icloud2mqtt", "control.json"))).toBe(false);

    // Restart on the same ports: no EADDRINUSE, the accessories come from the cache, no code is asked.
    const codes = sim.stats(APPLE_ID).codes_sent;
    const second = startHomebridge(bin, storage);
    try {
      await until(
        async () => {
          const response = await hap(childPort, "/accessories").catch(() => undefined);
          return response?.status === 200;
        },
        "the restarted child bridge",
        45_000,
      );
      await until(
        async () =>
          (await readBridge(childPort)).tree["iCloud hb"]?.["iCloud sign-in"]?.["Contact Sensor State"] === 0 &&
          (await ControlClient.find(join(storage, "icloud2mqtt")))?.state.accounts[0]?.state.session.state === "active",
        "the stored session",
        30_000,
      );
      expect(Object.keys((await readBridge(childPort)).tree)).toHaveLength(6);
      expect(second.output()).toMatch(/Loaded 5 cached accessories/);
      expect(sim.stats(APPLE_ID).codes_sent).toEqual(codes);
    } finally {
      const { code, ms } = await stop(second);
      expect(ms).toBeLessThan(12_000);
      expect([0, 143]).toContain(code);
    }
    expect(second.output()).not.toMatch(/EADDRINUSE|address already in use/i);
  }, 150_000);

  it("starts cleanly with the checker's {platform} config and writes nothing", async () => {
    const storage = join(work, `bare ${label}`);
    await writeConfig(storage, await freePort(), { platform: "iCloud2MQTT" });
    const hb = startHomebridge(bin, storage);
    let result: { code: number | null; ms: number } | undefined;
    try {
      await until(() => /is running on port/.test(hb.output()), "Homebridge to run", 45_000);
      expect(hb.output()).toContain("not configured yet: add an iCloud account in the plugin's settings");
    } finally {
      result = await stop(hb);
    }
    expect(result.ms).toBeLessThan(12_000);
    expect([0, 143]).toContain(result.code);
    expect((await readdir(storage)).sort()).not.toContain("icloud2mqtt");
  }, 60_000);
});
