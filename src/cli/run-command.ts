import type { Command } from "commander";
import { EngineError } from "../errors.ts";
import { waitForSignal } from "./wait-for-signal.ts";

interface RunOptions {
  config?: string;
}

async function run(options: RunOptions): Promise<void> {
  // Modules are loaded by the command that needs them, so each command starts with only its own.
  const [{ invalid, loadConfigDetailed }, { credentialProblems }] = await Promise.all([
    import("../config/load.ts"),
    import("../engine/credentials.ts"),
  ]);
  const loaded = await loadConfigDetailed(options.config === undefined ? {} : { file: options.config });
  const [{ startBridge }, { createLogger }] = await Promise.all([import("../bridge.ts"), import("../pino-logger.ts")]);
  const logger = createLogger({ level: loaded.config.log_level });
  for (const warning of loaded.warnings) logger.warn(warning.message, { key: warning.path });
  if (loaded.config.accounts.length === 0) {
    throw new EngineError(
      "CONFIG_INVALID",
      "no accounts configured: pass --config FILE (see config.example.yaml), or try `icloud2mqtt demo`",
    );
  }
  const unusable = await credentialProblems(loaded.config.accounts, loaded.config.state_dir);
  if (unusable.length > 0) {
    throw invalid(
      loaded.file,
      unusable.map((p) => ({ path: `accounts.${p.index}.password`, message: p.message })),
    );
  }
  const bridge = await startBridge({ config: loaded.config, logger });
  if (bridge.httpUrl) logger.info(`web UI and HTTP API at ${bridge.httpUrl}`);
  if (bridge.ricloudUrl) logger.info(`ricloud-compatible API at ${bridge.ricloudUrl}`);
  const signal = await waitForSignal();
  logger.info(`stopping (${signal})`);
  await bridge.stop();
}

/** `icloud2mqtt run --config FILE` (also the default command) and `icloud2mqtt config check|schema`. */
export function registerRunCommand(program: Command): void {
  program
    .command("run", { isDefault: true })
    .description("Run the bridge (default command)")
    .option("-c, --config <file>", "configuration file (YAML); also $ICLOUD2MQTT_CONFIG")
    .action(run);

  const config = program.command("config").description("Inspect the configuration");
  config
    .command("check")
    .description("Validate a configuration file and print it with secrets redacted")
    .option("-c, --config <file>", "configuration file (YAML)")
    .action(async (options: RunOptions) => {
      const { checkConfig, formatConfigCheck } = await import("../config/check.ts");
      const result = await checkConfig(options.config === undefined ? {} : { file: options.config });
      process.stdout.write(`${formatConfigCheck(result, { dump: true })}\n`);
      if (!result.ok) process.exitCode = 1;
    });
  config
    .command("schema")
    .description("Print the configuration's JSON Schema (for editors)")
    .action(async () => {
      const { configJsonSchema } = await import("../config/json-schema.ts");
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
