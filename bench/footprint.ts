/**
 * Footprint benchmark (not a timed test): prints one JSON document on stdout.
 *
 * The bridge (`icloud2mqtt run`, one account with its session stored beforehand, default services)
 * as a child process against the simulator, started from the sources (`node src/cli/main.ts`) and as
 * installed (`bin/icloud2mqtt.js` → `dist/`), each with the embedded broker and HTTP on, and with an
 * external broker (HTTP off). For each: RSS when idle after the first sync (median of samples), its
 * peak, and the time from the process start to the first retained publishes (`bridge/state`, the
 * first Find My device). Bare Node's idle RSS, measured in the same run, is the reference. Every case
 * runs twice; the report gives the median of the runs and each run.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { startEmbeddedBroker } from "../src/mqtt/embedded-broker.ts";
import {
  type Entry,
  ensureBuilt,
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

/** Targets of issue 14 for the installed (dist) path. */
const TARGETS = { embedded_http_mb: 80, external_broker_mb: 65 };

async function bareNode(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  await sleep(1500);
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    samples.push(procMemory(child.pid ?? 0).rss);
    await sleep(100);
  }
  child.kill();
  return median(samples);
}

interface Case {
  entry: Entry;
  broker: "embedded" | "external";
}

interface CaseResult {
  idle_rss_mb: number;
  peak_rss_mb: number;
  start_to_online_ms: number;
  start_to_first_device_ms: number;
  messages_first_sync: number;
}

async function runCase(sim: { url: string }, externalUrl: string, c: Case): Promise<CaseResult> {
  const { dir, remove } = await tempDir("bench-footprint-");
  try {
    const stateDir = path.join(dir, "state");
    await storeSessions(sim as never, [APPLE_ID], stateDir);
    const port = await freePort();
    const config = {
      version: 1,
      log_level: "warn",
      state_dir: stateDir,
      accounts: [{ id: "jane", username: APPLE_ID, endpoint: sim.url }],
      mqtt:
        c.broker === "embedded"
          ? { url: null, embedded_broker: { host: "127.0.0.1", port } }
          : { url: externalUrl, client_id: `bench-${port}` },
      http: c.broker === "embedded" ? { enabled: true, port: 0 } : { enabled: false },
    };
    const file = await writeConfig(dir, config);
    const bridge = spawnBridge(c.entry, file);
    try {
      const url = c.broker === "embedded" ? `mqtt://127.0.0.1:${port}` : externalUrl;
      const observer = await Observer.connect(url, "icloud2mqtt/#");
      try {
        const online = await observer.next((m) => m.topic === "icloud2mqtt/bridge/state");
        const device = await observer.next((m) => m.topic.startsWith("icloud2mqtt/jane/devices/"));
        await observer.quiet(QUIET_MS);
        const samples: number[] = [];
        const end = performance.now() + SAMPLE_MS;
        while (performance.now() < end) {
          samples.push(procMemory(bridge.pid).rss);
          await sleep(250);
        }
        return {
          idle_rss_mb: mb(median(samples)),
          peak_rss_mb: mb(procMemory(bridge.pid).peak),
          start_to_online_ms: Math.round(online.at - bridge.startedAt),
          start_to_first_device_ms: Math.round(device.at - bridge.startedAt),
          messages_first_sync: observer.messages.length,
        };
      } finally {
        await observer.close();
      }
    } catch (error) {
      process.stderr.write(`bench: bridge output:\n${bridge.output()}\n`);
      throw error;
    } finally {
      await bridge.stop();
    }
  } finally {
    await remove();
  }
}

function summarize(runs: CaseResult[]): Record<string, unknown> {
  const keys = Object.keys(runs[0] ?? {}) as (keyof CaseResult)[];
  return {
    ...Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key]))])),
    runs,
  };
}

async function main(): Promise<void> {
  ensureBuilt();
  const sim = await startWorld([{ appleId: APPLE_ID }]);
  const external = await startEmbeddedBroker({ host: "127.0.0.1", port: 0 });
  try {
    const bare: number[] = [];
    const results = new Map<string, CaseResult[]>();
    const cases: Case[] = [
      { entry: "dist", broker: "embedded" },
      { entry: "dist", broker: "external" },
      { entry: "src", broker: "embedded" },
      { entry: "src", broker: "external" },
    ];
    for (let run = 0; run < RUNS; run++) {
      bare.push(await bareNode());
      for (const c of cases) {
        const key = `${c.entry}_${c.broker}`;
        results.set(key, [...(results.get(key) ?? []), await runCase(sim, external.url, c)]);
      }
    }
    const bareMb = mb(median(bare));
    const bridge = Object.fromEntries(
      [...results].map(([key, runs]) => {
        const summary = summarize(runs);
        return [
          key,
          { ...summary, vs_bare_node: Math.round(((summary["idle_rss_mb"] as number) / bareMb) * 100) / 100 },
        ];
      }),
    );
    const idle = (key: string): number => (bridge[key] as unknown as { idle_rss_mb: number }).idle_rss_mb;
    const report = {
      bench: "footprint",
      node: process.version,
      runs: RUNS,
      reference_bare_node_idle_rss_mb: bareMb,
      bridge,
      targets: {
        dist_embedded_http_idle_rss_mb: {
          value: idle("dist_embedded"),
          target: TARGETS.embedded_http_mb,
          ok: idle("dist_embedded") <= TARGETS.embedded_http_mb,
        },
        dist_external_broker_idle_rss_mb: {
          value: idle("dist_external"),
          target: TARGETS.external_broker_mb,
          ok: idle("dist_external") <= TARGETS.external_broker_mb,
        },
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await external.close();
    await sim.close();
  }
}

await main();
