/**
 * Helpers for benchmarks of a whole bridge process (`icloud2mqtt run`): a simulator with accounts whose
 * sessions are stored beforehand (the bridge starts without a sign-in), a configuration file, the
 * bridge as a child process (from the sources or from the compiled `dist/`), its RSS and CPU read
 * from /proc, and an MQTT observer that counts and timestamps what the bridge publishes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { ICloudSession } from "../../src/icloud/session.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { sessionsDir } from "../../src/icloud/state-dir.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../../src/simulator/service-modules.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const PASSWORD = "bench password";

/** How the bridge is started: from the TypeScript sources or as installed (bin → dist/). */
export type Entry = "src" | "dist";
export const ENTRY_ARGS: Record<Entry, string[]> = {
  src: [path.join(ROOT, "src/cli/main.ts")],
  dist: [path.join(ROOT, "bin/icloud2mqtt.js")],
};

export function mb(bytes: number): number {
  return Math.round((bytes / 1e6) * 10) / 10;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Newest modification time of the files under `dir` (ms). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(file) : statSync(file).mtimeMs);
  }
  return latest;
}

/** Builds `dist/` (`npm run build`) when it is missing or older than `src/`. */
export function ensureBuilt(): void {
  // The build's last step: the command line's bundle, which the installed command runs.
  const main = path.join(ROOT, "dist/command/main.js");
  if (existsSync(main) && statSync(main).mtimeMs >= newest(path.join(ROOT, "src"))) return;
  process.stderr.write("bench: building dist/ (npm run build)\n");
  // The build's output goes to stderr: stdout is the bench's JSON report.
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts/build.ts")], {
    cwd: ROOT,
    stdio: ["ignore", 2, 2],
  });
  if (built.status !== 0) throw new Error("npm run build failed");
}

/**
 * `count` Find My devices for a scenario (no family, so the first answer is complete). With `moving`,
 * each device goes round a small loop once an hour of simulated time and its battery drains by 0.5 %
 * a minute: a plain refresh answers the cached fix (only a locate brings a new one, as Apple does),
 * so the battery is what every poll after the clock moved sees change. Otherwise locations and
 * batteries stay put and a poll changes nothing.
 */
export function findMyDevices(count: number, moving: boolean): Record<string, unknown> {
  const devices = Array.from({ length: count }, (_, i) => {
    const lat = 51.5 + i * 0.001;
    const lon = -0.12 - i * 0.001;
    return {
      name: `Device ${i + 1}`,
      device_display_name: "iPhone 15",
      raw_device_model: "iPhone15,4",
      device_class: "iPhone",
      model_display_name: "iPhone",
      battery_level: 0.5 + (i % 5) / 10,
      battery_drain_per_hour: moving ? 0.3 : 0,
      location: { latitude: lat, longitude: lon, horizontal_accuracy: 5, age: "1m" },
      ...(moving
        ? {
            route: [
              { lat, lon },
              { lat: lat + 0.01, lon },
              { lat: lat + 0.01, lon: lon + 0.01 },
            ],
            route_period: "1h",
          }
        : {}),
    };
  });
  return { devices };
}

export interface WorldAccount {
  appleId: string;
  /** The account's `findmy` scenario section (default household when left out). */
  findmy?: unknown;
  photos?: unknown;
  calls?: unknown;
  calendar?: unknown;
}

/** The simulator with every service, accounts without MFA (SRP with few iterations). */
export async function startWorld(accounts: readonly WorldAccount[]): Promise<SimulatorHandle> {
  const scenario = parseScenario({
    accounts: accounts.map((account) => ({
      apple_id: account.appleId,
      password: PASSWORD,
      srp: { protocol: "s2k", iterations: 1000 },
      mfa: { kind: "none" },
      findmy: account.findmy ?? {},
      photos: account.photos ?? { count: 50, seed: 1 },
      calls: account.calls ?? { generate: { count: 5, seed: 1 } },
      calendar: account.calendar ?? { generate: {} },
    })),
  });
  return startSimulator({ scenario, port: 0, services: [...SIMULATOR_SERVICES] });
}

/** Signs each account in once and stores its session in `stateDir`, as `icloud2mqtt login` does. */
export async function storeSessions(
  sim: SimulatorHandle,
  appleIds: readonly string[],
  stateDir: string,
): Promise<void> {
  for (const appleId of appleIds) {
    const session = await ICloudSession.open({
      username: appleId,
      password: PASSWORD,
      endpoint: sim.url,
      store: new SessionStore(sessionsDir(stateDir)),
    });
    const snapshot = await session.signIn();
    if (snapshot.state !== "active") throw new Error(`sign-in of ${appleId} failed: ${String(snapshot.error)}`);
    await session.close();
  }
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a configuration (JSON is YAML) with mode 0600 and returns its path. */
export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, "config.yaml");
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

/** Resident set size and its peak (VmHWM) of a process, from /proc (Linux). */
export function procMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / clockTicks;
}

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

export interface BridgeChild {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Node flags before the entry script. */
  nodeFlags?: readonly string[];
  /** More environment variables (ICLOUD2MQTT_* of the bench's own environment are left out). */
  env?: Record<string, string>;
}

/** Starts `icloud2mqtt run --config FILE` from the sources or as installed (bin → dist/). */
export function spawnBridge(entry: Entry, configFile: string, options: SpawnOptions = {}): BridgeChild {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ICLOUD2MQTT_"))),
    ...options.env,
  };
  const startedAt = performance.now();
  const args = [...(options.nodeFlags ?? []), ...ENTRY_ARGS[entry], "run", "--config", configFile];
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.pid === undefined) throw new Error("bridge did not start");
  return {
    child,
    pid: child.pid,
    startedAt,
    output: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface Observed {
  topic: string;
  retain: boolean;
  /** Arrival, `performance.now()`. */
  at: number;
  /** Arrival, `Date.now()` (to compare with other processes' clocks). */
  epoch: number;
  bytes: number;
}

/** An MQTT client that records every message under `#` with its arrival time (performance.now()). */
export class Observer {
  readonly messages: Observed[] = [];
  readonly #client: MqttClient;
  #waiters: Array<{ test: (m: Observed) => boolean; resolve: (m: Observed) => void }> = [];

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on("message", (topic, payload, packet) => {
      const message = { topic, retain: packet.retain, at: performance.now(), epoch: Date.now(), bytes: payload.length };
      this.messages.push(message);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.test(message)) return true;
        waiter.resolve(message);
        return false;
      });
    });
  }

  /** Connects (retrying while the broker is not up yet) and subscribes to `topic`. */
  static async connect(url: string, topic = "#", timeoutMs = 60_000): Promise<Observer> {
    const client = mqtt.connect(url, { reconnectPeriod: 100, connectTimeout: timeoutMs, protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no MQTT broker at ${url}`)), timeoutMs);
      client.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await client.subscribeAsync(topic, { qos: 0 });
    return new Observer(client);
  }

  /** The first message (already received or future) that passes `test`. */
  next(test: (m: Observed) => boolean, timeoutMs = 60_000, since = 0): Promise<Observed> {
    const seen = this.messages.slice(since).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for an MQTT message")), timeoutMs);
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Resolves once no message arrived for `quietMs` (at most `timeoutMs`). */
  async quiet(quietMs: number, timeoutMs = 60_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      const last = this.messages.at(-1)?.at ?? 0;
      const wait = last + quietMs - performance.now();
      if (wait <= 0) return;
      await sleep(Math.min(wait, 200));
    }
  }

  publish(topic: string, payload: string): Promise<unknown> {
    return this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  close(): Promise<void> {
    return this.#client.endAsync(true);
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
