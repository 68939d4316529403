/**
 * Footprint benchmark (not a timed test): prints one JSON document on stdout.
 *
 * The bridge (`icloud2mqtt run`, one account whose session was stored beforehand, the default
 * services: Find My with three devices, photos, calls, calendar) as a child process against the
 * simulator, in the configurations users run:
 *
 * - `dist_embedded_http`: as installed (`bin/icloud2mqtt.js` → `dist/`), embedded broker, HTTP (and
 *   web push) on. Target: idle RSS ≤ 80 MB.
 * - `dist_external`: as installed, an external broker (started by the bench), HTTP off. Target ≤ 65 MB.
 * - `dist_embedded_http_node_defaults`: as `dist_embedded_http` with Node's own memory settings
 *   (`ICLOUD2MQTT_NODE_FLAGS=""`), to show what the installed command's V8 flags save.
 * - `src_embedded_http`, `src_external`: `node src/cli/main.ts` (types stripped at start).
 *
 * For each: RSS when idle after the first sync (median of samples over 5 s, 25 s after the first
 * device message: V8's memory reducer shrinks the heap some seconds after the work stops; the figure
 * right after 3 s without MQTT messages is reported too, as `early_idle_rss_mb`), its peak, and the time from the process start to the first retained publishes
 * (`bridge/state`, the first Find My device) with the stored session. Bare Node's idle RSS, measured
 * in the same run, is the reference each figure is divided by; a second reference is the floor: Node
 * with the lean flags and the built-in modules the bridge uses, loaded and used (`FLOOR_SCRIPT`). Every case runs `BENCH_RUNS` times
 * (default 2), interleaved; the report gives the median and every run.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { LEAN_NODE_FLAGS } from "../src/cli/node-flags.ts";
import { startEmbeddedBroker } from "../src/mqtt/embedded-broker.ts";
import type { SimulatorHandle } from "../src/simulator/server.ts";
import {
  type Entry,
  ensureBuilt,
  findMyDevices,
  freePort,
  mb,
  median,
  Observer,
  procMemory,
  sleep,
  spawnBridge,
  startWorld,
  storeSessions,
  tempDir,
  writeConfig,
} from "./lib/bridge-world.ts";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 2);
const APPLE_ID = "jane@bench.local";
const QUIET_MS = 3000;
const SAMPLE_MS = 5000;
/** The settled figure is sampled from this long after the first device message on. */
const SETTLE_MS = 25_000;

interface Case {
  name: string;
  entry: Entry;
  broker: "embedded" | "external";
  env?: Record<string, string>;
  /** Idle RSS target (MB) of issue 14. */
  target?: number;
}

const CASES: Case[] = [
  { name: "dist_embedded_http", entry: "dist", broker: "embedded", target: 80 },
  { name: "dist_external", entry: "dist", broker: "external", target: 65 },
  { name: "dist_embedded_http_node_defaults", entry: "dist", broker: "embedded", env: { ICLOUD2MQTT_NODE_FLAGS: "" } },
  { name: "src_embedded_http", entry: "src", broker: "embedded" },
  { name: "src_external", entry: "src", broker: "external" },
];

interface CaseResult {
  /** Median RSS over 5 s, 25 s after the first device message (V8 has shrunk its heap by then). */
  idle_rss_mb: number;
  /** Median RSS over the 5 s right after 3 s without MQTT messages. */
  early_idle_rss_mb: number;
  peak_rss_mb: number;
  start_to_online_ms: number;
  start_to_first_device_ms: number;
  messages_first_sync: number;
}

/**
 * A second reference: Node with the installed command's flags, having loaded the built-in modules
 * the bridge loads (the list `run` shows with a module-loading hook) and used what it uses of them
 * (a hash and PBKDF2, zlib, a WebAssembly module, a listening socket; no `Intl` formatter or
 * collator, which the bridge no longer creates on its own), without any npm package or code of the bridge: the floor of the bridge's idle RSS.
 */
const FLOOR_SCRIPT = `
for (const name of ["assert", "async_hooks", "buffer", "child_process", "crypto", "diagnostics_channel", "dns",
  "events", "fs", "fs/promises", "http", "http2", "https", "module", "net", "os", "path", "querystring",
  "readline", "stream", "stream/promises", "tls", "tty", "url", "util", "worker_threads", "zlib"])
  process.getBuiltinModule("node:" + name);
const crypto = process.getBuiltinModule("node:crypto");
crypto.createHash("sha256").update("x").digest();
crypto.pbkdf2Sync("a", "b", 1000, 32, "sha256");
process.getBuiltinModule("node:zlib").gzipSync("hello");
WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
process.getBuiltinModule("node:net").createServer().listen(0, "127.0.0.1").unref();
setTimeout(() => {}, 60_000);
`;

/** Bare Node's RSS, idle (`node -e 'setTimeout(…)'`), or with `args` instead. */
async function bareNode(args: string[] = ["-e", "setTimeout(() => {}, 60_000)"]): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: "ignore" });
  await sleep(2500);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(procMemory(child.pid ?? 0).rss);
    await sleep(100);
  }
  child.kill();
  return median(samples);
}

async function runCase(sim: SimulatorHandle, c: Case): Promise<CaseResult> {
  const { dir, remove } = await tempDir("bench-footprint-");
  const external = c.broker === "external" ? await startEmbeddedBroker({ host: "127.0.0.1", port: 0 }) : undefined;
  try {
    const stateDir = path.join(dir, "state");
    await storeSessions(sim, [APPLE_ID], stateDir);
    const port = await freePort();
    const file = await writeConfig(dir, {
      version: 1,
      log_level: "warn",
      state_dir: stateDir,
      accounts: [{ id: "jane", username: APPLE_ID, endpoint: sim.url }],
      mqtt: external
        ? { url: external.url, client_id: `bench-${port}` }
        : { url: null, embedded_broker: { host: "127.0.0.1", port } },
      http: external ? { enabled: false } : { enabled: true, port: 0 },
    });
    const bridge = spawnBridge(c.entry, file, c.env === undefined ? {} : { env: c.env });
    try {
      const observer = await Observer.connect(external?.url ?? `mqtt://127.0.0.1:${port}`, "icloud2mqtt/#");
      try {
        const online = await observer.next((m) => m.topic === "icloud2mqtt/bridge/state");
        const device = await observer.next((m) => m.topic.startsWith("icloud2mqtt/jane/devices/"));
        await observer.quiet(QUIET_MS);
        const sample = async (): Promise<number> => {
          const samples: number[] = [];
          const end = performance.now() + SAMPLE_MS;
          while (performance.now() < end) {
            samples.push(procMemory(bridge.pid).rss);
            await sleep(250);
          }
          return mb(median(samples));
        };
        const early = await sample();
        await sleep(Math.max(0, device.at + SETTLE_MS - performance.now()));
        return {
          idle_rss_mb: await sample(),
          early_idle_rss_mb: early,
          peak_rss_mb: mb(procMemory(bridge.pid).peak),
          start_to_online_ms: Math.round(online.at - bridge.startedAt),
          start_to_first_device_ms: Math.round(device.at - bridge.startedAt),
          messages_first_sync: observer.messages.length,
        };
      } finally {
        await observer.close();
      }
    } catch (error) {
      process.stderr.write(`bench: ${c.name}: bridge output:\n${bridge.output()}\n`);
      throw error;
    } finally {
      await bridge.stop();
    }
  } finally {
    await external?.close();
    await remove();
  }
}

async function main(): Promise<void> {
  ensureBuilt();
  const sim = await startWorld([{ appleId: APPLE_ID, findmy: findMyDevices(3, false) }]);
  try {
    const bare: number[] = [];
    const floor: number[] = [];
    const results = new Map<string, CaseResult[]>();
    for (let run = 0; run < RUNS; run++) {
      bare.push(await bareNode());
      floor.push(await bareNode([...LEAN_NODE_FLAGS, "-e", FLOOR_SCRIPT]));
      for (const c of CASES) results.set(c.name, [...(results.get(c.name) ?? []), await runCase(sim, c)]);
    }
    const bareMb = mb(median(bare));
    const bridge: Record<string, unknown> = {};
    const targets: Record<string, unknown> = {};
    for (const c of CASES) {
      const runs = results.get(c.name) ?? [];
      const pick = (key: keyof CaseResult): number => median(runs.map((run) => run[key]));
      const idle = pick("idle_rss_mb");
      bridge[c.name] = {
        idle_rss_mb: idle,
        idle_vs_bare_node: Math.round((idle / bareMb) * 100) / 100,
        early_idle_rss_mb: pick("early_idle_rss_mb"),
        peak_rss_mb: pick("peak_rss_mb"),
        start_to_online_ms: pick("start_to_online_ms"),
        start_to_first_device_ms: pick("start_to_first_device_ms"),
        messages_first_sync: pick("messages_first_sync"),
        runs,
      };
      if (c.target !== undefined)
        targets[`${c.name}_idle_rss_mb`] = { value: idle, target: c.target, ok: idle <= c.target };
    }
    const report = {
      bench: "footprint",
      node: process.version,
      runs: RUNS,
      reference_bare_node_idle_rss_mb: bareMb,
      reference_node_builtins_floor_idle_rss_mb: mb(median(floor)),
      bridge,
      targets,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sim.close();
  }
}

await main();
