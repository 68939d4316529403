/**
 * A real icloud2mqtt process (`node src/cli/main.ts run --config <file>`), for tests of clients that
 * talk to a running bridge over MQTT. Its account signs in to an in-test simulator; its broker is one
 * the test started. The state folder survives `stop()`, so `start()` again resumes the session.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { onCleanup, type TestAccount, tempDir } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface BridgeProcessOptions {
  sim: SimulatorHandle;
  account: TestAccount;
  /** The account's id in the configuration. */
  id: string;
  /** More of the account's settings (services, …). */
  settings?: Record<string, unknown>;
  brokerUrl: string;
  baseTopic?: string;
}

export interface BridgeProcess {
  readonly baseTopic: string;
  readonly running: boolean;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
  start(): Promise<void>;
  /** SIGTERM: the bridge publishes `offline` and disconnects. SIGKILL: the broker publishes its will. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/** Writes the configuration and starts the process; stopped at cleanup. */
export async function startBridgeProcess(options: BridgeProcessOptions): Promise<BridgeProcess> {
  const dir = await tempDir("i2m-remote-bridge-");
  const baseTopic = options.baseTopic ?? "icloud2mqtt";
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
        ...options.settings,
      },
    ],
    mqtt: {
      url: options.brokerUrl,
      client_id: `icloud2mqtt-test-${Math.random().toString(16).slice(2)}`,
      base_topic: baseTopic,
    },
    http: { enabled: false },
    push: { enabled: false },
  };
  const file = join(dir, "config.yaml");
  // JSON is YAML.
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ICLOUD2MQTT_")));

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = "";
  const bridge: BridgeProcess = {
    baseTopic,
    get running() {
      return child !== undefined;
    },
    output: () => log,
    start: async () => {
      if (child !== undefined) throw new Error("the bridge process is running");
      const started = spawn(process.execPath, ["src/cli/main.ts", "run", "--config", file], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = started;
      const keep = (chunk: Buffer) => {
        log += chunk.toString("utf8");
      };
      started.stdout?.on("data", keep);
      started.stderr?.on("data", keep);
      exited = new Promise((resolve) =>
        started.once("exit", () => {
          if (child === started) child = undefined;
          resolve();
        }),
      );
    },
    stop: async (signal = "SIGTERM") => {
      const running = child;
      if (running === undefined) return;
      running.kill(signal);
      await exited;
    },
  };
  onCleanup(() => bridge.stop());
  await bridge.start();
  return bridge;
}
