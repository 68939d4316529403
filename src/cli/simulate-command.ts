import type { Command } from "commander";

interface SimulateOptions {
  scenario: string;
  port: string;
  host: string;
  tls?: boolean;
  publicUrl?: string;
}

/**
 * `icloud2mqtt simulate --scenario FILE [--port N] [--host H] [--tls]`: runs the iCloud simulator
 * until SIGINT/SIGTERM. Random 2FA codes are logged each time a device or phone shows one.
 */
export function registerSimulateCommand(program: Command): void {
  program
    .command("simulate")
    .description("Run the local iCloud simulator (Apple sign-in, setup, Find My, photos, call history)")
    .requiredOption("--scenario <file>", "scenario file (YAML or JSON)")
    .option("--port <n>", "port to listen on (0 = any free port)", "0")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--tls", "serve HTTPS with a self-signed certificate")
    .option("--public-url <origin>", "origin clients use when it differs from --host (webservice URLs point there)")
    .action(async (options: SimulateOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${options.port}`);
      const [{ createLogger }, { startSimulator }, { SIMULATOR_SERVICES }] = await Promise.all([
        import("../pino-logger.ts"),
        import("../simulator/server.ts"),
        import("../simulator/service-modules.ts"),
      ]);
      const logger = createLogger({ name: "simulator" });
      const services = [...SIMULATOR_SERVICES];
      const handle = await startSimulator({
        scenario: options.scenario,
        port,
        host: options.host,
        tls: options.tls === true,
        ...(options.publicUrl ? { publicOrigin: options.publicUrl } : {}),
        logger,
        services,
      });
      logger.info(`simulator ready at ${handle.url}`, { services: services.length });
      if (handle.tls) {
        const pem = handle.tls.ca.endsWith("\n") ? handle.tls.ca : `${handle.tls.ca}\n`;
        process.stdout.write(`Trust this certificate to use the simulator over HTTPS:\n${pem}`);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info(`stopping simulator (${signal})`);
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await handle.close();
    });
}
