/**
 * Bridge mode's world: Debian's mosquitto on a free port and a real icloud2mqtt process (the
 * engine package's own command line) whose account signs in to the simulator.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import type { SimulatorHandle } from "icloud2mqtt/testing";
import { freePort } from "./node-red-process.ts";
import { onCleanup, sleep, type TestAccount, tempDir } from "./world.ts";

const require = createRequire(import.meta.url);
export const MOSQUITTO = "/usr/sbin/mosquitto";
/** Skip only where mosquitto is not installed and this is not CI (CI must run it). */
export const skipMosquitto = !existsSync(MOSQUITTO) && process.env["CI"] === undefined;

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/** The environment without ICLOUD2MQTT_* overrides, which would change the bridge's configuration. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ICLOUD2MQTT_")));

function started(command: string, args: string[], cwd: string): Running & { output(): string } {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, exited, output: () => output };
}

async function stop(running: Running): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill("SIGTERM");
  await running.exited;
}

/** mosquitto without persistence on 127.0.0.1; stopped at cleanup. */
export async function startMosquitto(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  const dir = await tempDir("i2m-mosquitto-");
  const conf = join(dir, "mosquitto.conf");
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  const broker = started(MOSQUITTO, ["-c", conf], dir);
  onCleanup(() => stop(broker));
  await waitForPort(port);
  return { port, url: `mqtt://127.0.0.1:${port}` };
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

export interface BridgeProcess {
  output(): string;
  start(): void;
  /** SIGTERM: the bridge publishes `offline` and disconnects. */
  stop(): Promise<void>;
}

/**
 * `icloud2mqtt run` with one account on the simulator, on the given broker and base topic. In a
 * checkout the engine's command line runs from its TypeScript sources; an installed engine runs dist/.
 */
export async function startBridge(options: {
  sim: SimulatorHandle;
  account: TestAccount;
  id: string;
  brokerUrl: string;
  baseTopic: string;
}): Promise<BridgeProcess> {
  const dir = await tempDir("i2m-bridge-");
  const config = {
    version: 1,
    log_level: "info",
    state_dir: join(dir, "state"),
    accounts: [
      {
        id: options.id,
        username: options.account.appleId,
        password: options.account.password,
        endpoint: options.sim.url,
      },
    ],
    mqtt: { url: options.brokerUrl, client_id: `icloud2mqtt-${options.id}`, base_topic: options.baseTopic },
    http: { enabled: false },
    push: { enabled: false },
  };
  const file = join(dir, "config.yaml");
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  const engineDir = dirname(require.resolve("icloud2mqtt/package.json"));
  const sources = join(engineDir, "src", "cli", "main.ts");
  const main = existsSync(sources) ? sources : join(engineDir, "bin", "icloud2mqtt.js");
  let running: (Running & { output(): string }) | undefined;
  let log = "";
  const bridge: BridgeProcess = {
    output: () => log + (running?.output() ?? ""),
    start: () => {
      if (running !== undefined) throw new Error("the bridge runs");
      running = started(process.execPath, [main, "run", "--config", file], engineDir);
    },
    stop: async () => {
      const current = running;
      if (current === undefined) return;
      await stop(current);
      log += current.output();
      running = undefined;
    },
  };
  onCleanup(() => bridge.stop());
  bridge.start();
  return bridge;
}
