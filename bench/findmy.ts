/**
 * Find My benchmark (not a timed test): prints one JSON document on stdout. The bridge runs as
 * installed (`bin/icloud2mqtt.js` → `dist/`) against the simulator and an external broker, both in
 * this process; only Find My is on (the other services off), sessions are stored beforehand.
 *
 * - `latency`: one account with 10 devices on the move. Each round moves the simulator's clock by a
 *   minute and asks for a sync (`bridge/request/sync`); the figure is the time from the simulator's
 *   Find My answer (its request log) to the first device message at a subscriber, and to the last.
 *   Reference: the same answer → publish path's floor, the time a message takes from this process
 *   through the broker and back (a publish by the bench itself, same broker, same round).
 * - `unchanged`: an account whose 10 devices stand still, synced again without the clock moving:
 *   the messages the bridge publishes then, by topic (target: none). The account's status topic
 *   (`<base>/<account>/state`: running, then ready with the new `last_sync`) is counted apart.
 * - `load`: 20 accounts × 10 devices, Find My every minute, 5 minutes of simulated time: each
 *   simulated minute the clock moves a minute and every account is synced (as its schedule would),
 *   then the bridge idles; its CPU time over the 5 simulated minutes is the CPU of the rounds plus
 *   its idle rate (measured over `IDLE_SAMPLE_S` seconds) for the rest of the 300 seconds. Also its
 *   peak RSS. Reference: bare Node's RSS in the same run. Targets: CPU < 5 % of one core, RSS ≤ 150 MB.
 *
 * Every part runs `BENCH_RUNS` times (default 2); the report gives medians and each run.
 */
import path from "node:path";
import { startEmbeddedBroker } from "../src/mqtt/embedded-broker.ts";
import type { SimulatorHandle } from "../src/simulator/server.ts";
import {
  type BridgeChild,
  ensureBuilt,
  findMyDevices,
  mb,
  median,
  Observer,
  procCpuMs,
  procMemory,
  sleep,
  spawnBridge,
  startWorld,
  storeSessions,
  tempDir,
  writeConfig,
} from "./lib/bridge-world.ts";

const RUNS = Number(process.env["BENCH_RUNS"] ?? 2);
const ROUNDS = 15;
const LOAD_ACCOUNTS = 20;
const DEVICES = 10;
const SIMULATED_MINUTES = 5;
const IDLE_SAMPLE_S = 20;
const BASE = "icloud2mqtt";

/** Only Find My, polled on `schedule`. */
function findMyOnly(schedule: string): Record<string, unknown> {
  return {
    findmy: { schedule },
    photos: { enabled: false },
    calls: { enabled: false },
    calendar: { enabled: false },
  };
}

interface Bridge {
  child: BridgeChild;
  observer: Observer;
  close(): Promise<void>;
}

async function startBridge(
  sim: SimulatorHandle,
  accounts: { id: string; appleId: string }[],
  schedule: string,
): Promise<Bridge> {
  const { dir, remove } = await tempDir("bench-findmy-");
  const broker = await startEmbeddedBroker({ host: "127.0.0.1", port: 0 });
  const stateDir = path.join(dir, "state");
  await storeSessions(
    sim,
    accounts.map((a) => a.appleId),
    stateDir,
  );
  const file = await writeConfig(dir, {
    version: 1,
    log_level: "warn",
    state_dir: stateDir,
    accounts: accounts.map((a) => ({ id: a.id, username: a.appleId, endpoint: sim.url, ...findMyOnly(schedule) })),
    mqtt: { url: broker.url, client_id: "bench-bridge", discovery: true },
    http: { enabled: false },
  });
  // BENCH_BRIDGE_FLAGS: Node flags for the bridge, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const flags = (process.env["BENCH_BRIDGE_FLAGS"] ?? "").split(/\s+/).filter((flag) => flag !== "");
  const child = spawnBridge("dist", file, { nodeFlags: flags });
  const observer = await Observer.connect(broker.url, `${BASE}/#`);
  const close = async (): Promise<void> => {
    await observer.close();
    await child.stop();
    await broker.close();
    await remove();
  };
  try {
    for (const account of accounts) {
      await observer.next((m) => m.topic.startsWith(`${BASE}/${account.id}/devices/`), 120_000);
    }
    await observer.quiet(2000);
    return { child, observer, close };
  } catch (error) {
    process.stderr.write(`bench: bridge output:\n${child.output()}\n`);
    await close();
    throw error;
  }
}

/** Asks the bridge to sync Find My of `account` and waits for its answer. */
async function sync(observer: Observer, account: string): Promise<void> {
  const since = observer.messages.length;
  await observer.publish(`${BASE}/bridge/request/sync`, JSON.stringify({ account, data_types: ["fmip.devices"] }));
  await observer.next((m) => m.topic === `${BASE}/bridge/response/sync`, 60_000, since);
}

/** When the simulator answered the account's last Find My request, as `Date.now()` time. */
function lastFindMyAnswer(sim: SimulatorHandle, clockOffsetMs: number): number {
  const record = sim.requests().findLast((r) => r.route?.startsWith("fmip.") === true);
  if (!record) throw new Error("no Find My request seen");
  return Date.parse(record.at) - clockOffsetMs;
}

async function latency(sim: SimulatorHandle, clock: { offset: number }) {
  const bridge = await startBridge(sim, [{ id: "mover", appleId: "mover@bench.local" }], "1h");
  const { observer } = bridge;
  try {
    const first: number[] = [];
    const last: number[] = [];
    const loop: number[] = [];
    const counts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      sim.clock.advance(60_000);
      clock.offset += 60_000;
      const since = observer.messages.length;
      await sync(observer, "mover");
      const answered = lastFindMyAnswer(sim, clock.offset);
      const devices = observer.messages.slice(since).filter((m) => m.topic.startsWith(`${BASE}/mover/devices/`));
      if (devices.length === 0) {
        const seen = observer.messages.slice(since).map((m) => m.topic);
        process.stderr.write(
          `bench: round ${round}: messages after the sync: ${JSON.stringify(seen)}\n${bridge.child.output()}\n`,
        );
        throw new Error("a sync after the devices moved published no device");
      }
      first.push((devices[0]?.epoch ?? 0) - answered);
      last.push((devices.at(-1)?.epoch ?? 0) - answered);
      counts.push(devices.length);
      // The floor: a message from this process through the same broker to the same subscriber.
      const sent = Date.now();
      const probe = `${BASE}/bench/probe/${round}`;
      await observer.publish(probe, "x");
      const back = await observer.next((m) => m.topic === probe, 10_000, since);
      loop.push(back.epoch - sent);
    }
    return {
      rounds: ROUNDS,
      devices_per_round: median(counts),
      answer_to_first_device_ms: { median: median(first), max: Math.max(...first) },
      answer_to_last_device_ms: { median: median(last), max: Math.max(...last) },
      reference_broker_round_trip_ms: { median: median(loop), max: Math.max(...loop) },
      target_median_ms: 50,
    };
  } finally {
    await bridge.close();
  }
}

async function unchanged(sim: SimulatorHandle) {
  const bridge = await startBridge(sim, [{ id: "still", appleId: "still@bench.local" }], "1h");
  const { observer } = bridge;
  try {
    const syncs = 5;
    const since = observer.messages.length;
    for (let i = 0; i < syncs; i++) await sync(observer, "still");
    await observer.quiet(1000);
    const published = observer.messages
      .slice(since)
      .filter((m) => !m.topic.startsWith(`${BASE}/bridge/`) && !m.topic.startsWith(`${BASE}/bench/`));
    const byTopic: Record<string, number> = {};
    for (const m of published) byTopic[m.topic] = (byTopic[m.topic] ?? 0) + 1;
    const devices = published.filter((m) => m.topic.includes("/devices/")).length;
    // `<base>/<account>/state` is the bridge's own status of the account (running → ready, last_sync):
    // two per sync by contract, not iCloud data; everything else counts against the target.
    const status = published.filter((m) => m.topic === `${BASE}/still/state`).length;
    return {
      syncs,
      messages: published.length - status,
      device_messages: devices,
      account_status_messages: status,
      by_topic: byTopic,
      target_messages: 0,
    };
  } finally {
    await bridge.close();
  }
}

async function load(sim: SimulatorHandle, clock: { offset: number }, bareRss: number) {
  const accounts = Array.from({ length: LOAD_ACCOUNTS }, (_, i) => ({
    id: `load${i + 1}`,
    appleId: `load${i + 1}@bench.local`,
  }));
  const bridge = await startBridge(sim, accounts, "1m");
  const { observer, child } = bridge;
  try {
    // The scheduled polls are 1 minute apart in real time; the rounds below stand in for them.
    const idleStart = procCpuMs(child.pid);
    const idleAt = performance.now();
    await sleep(IDLE_SAMPLE_S * 1000);
    const idleCpuMs = procCpuMs(child.pid) - idleStart;
    const idleMs = performance.now() - idleAt;
    const idleRate = idleCpuMs / idleMs;
    let roundsCpu = 0;
    let roundsMs = 0;
    let messages = 0;
    for (let minute = 0; minute < SIMULATED_MINUTES; minute++) {
      sim.clock.advance(60_000);
      clock.offset += 60_000;
      const cpu = procCpuMs(child.pid);
      const at = performance.now();
      const since = observer.messages.length;
      await Promise.all(accounts.map((account) => sync(observer, account.id)));
      await observer.quiet(500);
      roundsCpu += procCpuMs(child.pid) - cpu;
      roundsMs += performance.now() - at;
      messages += observer.messages.slice(since).filter((m) => m.topic.includes("/devices/")).length;
    }
    const window = SIMULATED_MINUTES * 60_000;
    const cpuMs = roundsCpu + idleRate * Math.max(0, window - roundsMs);
    const memory = procMemory(child.pid);
    return {
      accounts: LOAD_ACCOUNTS,
      devices_per_account: DEVICES,
      simulated_minutes: SIMULATED_MINUTES,
      device_messages: messages,
      rounds_cpu_ms: Math.round(roundsCpu),
      idle_cpu_pct_of_core: Math.round(idleRate * 10000) / 100,
      cpu_pct_of_core: Math.round((cpuMs / window) * 10000) / 100,
      peak_rss_mb: mb(memory.peak),
      rss_mb: mb(memory.rss),
      reference_bare_node_rss_mb: mb(bareRss),
      targets: { cpu_pct_of_core: 5, peak_rss_mb: 150 },
    };
  } finally {
    await bridge.close();
  }
}

async function bareNodeRss(): Promise<number> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  await sleep(1500);
  const rss = procMemory(child.pid ?? 0).rss;
  child.kill();
  return rss;
}

function target(
  value: number,
  limit: number,
  compare: "<" | "<=" = "<=",
): { value: number; target: string; ok: boolean } {
  return { value, target: `${compare} ${limit}`, ok: compare === "<" ? value < limit : value <= limit };
}

async function main(): Promise<void> {
  ensureBuilt();
  const sim = await startWorld([
    { appleId: "mover@bench.local", findmy: findMyDevices(DEVICES, true) },
    { appleId: "still@bench.local", findmy: findMyDevices(DEVICES, false) },
    ...Array.from({ length: LOAD_ACCOUNTS }, (_, i) => ({
      appleId: `load${i + 1}@bench.local`,
      findmy: findMyDevices(DEVICES, true),
    })),
  ]);
  const clock = { offset: 0 };
  try {
    const runs: {
      latency: Awaited<ReturnType<typeof latency>>;
      unchanged: Awaited<ReturnType<typeof unchanged>>;
      load: Awaited<ReturnType<typeof load>>;
    }[] = [];
    for (let run = 0; run < RUNS; run++) {
      if (process.env["BENCH_ONLY"] === "latency") {
        // Only the latency part (while working on the answer → publish path).
        process.stdout.write(`${JSON.stringify(await latency(sim, clock), null, 2)}\n`);
        return;
      }
      const bare = await bareNodeRss();
      runs.push({
        latency: await latency(sim, clock),
        unchanged: await unchanged(sim),
        load: await load(sim, clock, bare),
      });
    }
    const pick = (get: (r: (typeof runs)[number]) => number): number => median(runs.map(get));
    const report = {
      bench: "findmy",
      node: process.version,
      runs: RUNS,
      latency: {
        answer_to_first_device_ms_median: pick((r) => r.latency.answer_to_first_device_ms.median),
        answer_to_last_device_ms_median: pick((r) => r.latency.answer_to_last_device_ms.median),
        reference_broker_round_trip_ms_median: pick((r) => r.latency.reference_broker_round_trip_ms.median),
        target_median_ms: 50,
      },
      unchanged: runs.map((r) => r.unchanged),
      load: {
        cpu_pct_of_core: pick((r) => r.load.cpu_pct_of_core),
        peak_rss_mb: pick((r) => r.load.peak_rss_mb),
        reference_bare_node_rss_mb: pick((r) => r.load.reference_bare_node_rss_mb),
        targets: { cpu_pct_of_core: 5, peak_rss_mb: 150 },
      },
      targets: {
        answer_to_first_device_ms_median: target(
          pick((r) => r.latency.answer_to_first_device_ms.median),
          50,
        ),
        unchanged_messages: target(Math.max(...runs.map((r) => r.unchanged.messages)), 0),
        load_cpu_pct_of_core: target(
          pick((r) => r.load.cpu_pct_of_core),
          5,
          "<",
        ),
        load_peak_rss_mb: target(
          pick((r) => r.load.peak_rss_mb),
          150,
        ),
      },
      each_run: runs,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await sim.close();
  }
}

await main();
