import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { EngineError, isEngineError } from "../errors.ts";
import { waitForSignal } from "./wait-for-signal.ts";

// fileURLToPath, not `.pathname`: an install folder with a space ("Program Files") is percent-encoded in URLs.
export const DEMO_SCENARIO = fileURLToPath(new URL("../simulator/scenarios/demo.yaml", import.meta.url));
export const DEMO_ACCOUNT = { id: "demo", username: "demo@icloud2mqtt.invalid", password: "demo-password" } as const;
/** The demo account's services: short schedules, and the data types that are off by default turned on. */
export const DEMO_SERVICES = {
  findmy: { schedule: "1m", locate: ["Demo's iPhone"], locate_schedule: "5m" },
  photos: { schedule: "1m" },
  calls: { schedule: "1m" },
  contacts: { enabled: true, schedule: "2m" },
  calendar: { schedule: "1m" },
  notes: { enabled: true, schedule: "1m" },
} as const;

interface DemoOptions {
  mqttPort: string;
  httpPort: string;
  simPort: string;
  stateDir?: string;
  photosFolder?: string;
}

function port(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid ${name} ${value}`);
  return n;
}

/**
 * `icloud2mqtt demo`: the whole bridge against the built-in iCloud simulator, with an embedded MQTT
 * broker and the web UI. The demo account uses two-factor authentication; the code its simulated
 * iPhone shows is printed in the log.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("Run the bridge against the built-in iCloud simulator (no Apple account needed)")
    .option("--mqtt-port <n>", "port of the embedded MQTT broker", "1883")
    .option("--http-port <n>", "port of the web UI / HTTP API", "8723")
    .option("--sim-port <n>", "port of the iCloud simulator (0 = any free port)", "0")
    .option("--state-dir <dir>", "where sessions and state are kept (default: a new temporary folder)")
    .option("--photos-folder <dir>", "mirror the demo photo library (with its albums) into this folder")
    .action(async (options: DemoOptions) => {
      // Loaded when the command runs, so other commands start without the bridge and the simulator.
      const [{ startBridge }, { resolveConfig }, { createLogger }, { startSimulator }, { SIMULATOR_SERVICES }] =
        await Promise.all([
          import("../bridge.ts"),
          import("../config/load.ts"),
          import("../pino-logger.ts"),
          import("../simulator/server.ts"),
          import("../simulator/service-modules.ts"),
        ]);
      const logger = createLogger({ level: "info" });
      const mqttPort = port(options.mqttPort, "--mqtt-port");
      const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "icloud2mqtt-demo-")));
      const simulator = await startSimulator({
        scenario: DEMO_SCENARIO,
        port: port(options.simPort, "--sim-port"),
        logger: logger.child({ module: "simulator" }),
        services: [...SIMULATOR_SERVICES],
      });
      try {
        logger.info(`iCloud simulator at ${simulator.url}`);
        const { config } = await resolveConfig({
          state_dir: stateDir,
          accounts: [
            {
              ...DEMO_ACCOUNT,
              endpoint: simulator.url,
              ...DEMO_SERVICES,
              photos: {
                ...DEMO_SERVICES.photos,
                ...(options.photosFolder === undefined
                  ? {}
                  : { download: { enabled: true, folder: options.photosFolder, mode: "all", albums: true } }),
              },
            },
          ],
          mqtt: { url: null, embedded_broker: { host: "127.0.0.1", port: mqttPort } },
          http: { port: port(options.httpPort, "--http-port") },
        });
        const bridge = await startBridge({ config, logger }).catch((error: unknown) => {
          throw isEngineError(error, "CONFIG_INVALID")
            ? new EngineError("CONFIG_INVALID", `${error.message}; choose other ports with --mqtt-port / --http-port`, {
                cause: error,
              })
            : error;
        });
        const base = config.mqtt.base_topic;
        // The port actually bound (`--mqtt-port 0` picks a free one).
        const boundPort = bridge.broker?.port ?? mqttPort;
        const p = boundPort === 1883 ? "" : ` -p ${boundPort}`;
        logger.info(
          [
            "demo running. The demo account needs a two-factor code: the simulated iPhone shows it in the",
            `simulator's log line "device shows code NNNNNN". Send it over MQTT:`,
            `mosquitto_pub${p} -t '${base}/bridge/request/mfa' -m '{"account":"demo","code":"NNNNNN"}'`,
            bridge.httpUrl ? `or type it at ${bridge.httpUrl} .` : "",
            `Watch everything: mosquitto_sub${p} -v -t '#'`,
          ]
            .filter(Boolean)
            .join(" "),
        );
        const signal = await waitForSignal();
        logger.info(`stopping (${signal})`);
        await bridge.stop();
      } finally {
        await simulator.close();
        if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
      }
    });
}
