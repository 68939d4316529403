import type { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceCliCommand } from "../engine/services/service-module.ts";
import { EngineError, isEngineError } from "../errors.ts";
import type { ServiceTransport } from "../icloud/service-transport.ts";
import { sessionsDir } from "../icloud/state-dir.ts";
import type { Logger } from "../logger.ts";

/**
 * Commands that services add to the command line (`icloud2mqtt <service> <command>`, e.g.
 * `icloud2mqtt photos download`). This file owns what every such command shares: `--config` and
 * `--account`, the account's stored session (never a password sign-in: that is `login`'s or the
 * bridge's job, under the account's sign-in lock), Ctrl-C, the terminal progress bar and the exit
 * code. The service's implementation (loaded only when the command runs) gets a `CliCommandContext`.
 */

/** Exit codes of service commands. */
export const EXIT = { ok: 0, failed: 1, unusable: 2, interrupted: 130 } as const;

export interface CliProgress {
  done: number;
  total: number;
  /** Short text after the bar, e.g. `56 files, 1.2 GB, ETA 5 min`. */
  detail: string;
}

/** The terminal as a service command sees it. */
export interface CliTerminal {
  /** A line on stdout (results, the summary). */
  line(text: string): void;
  /** A line on stderr (problems). */
  warn(text: string): void;
  /** Moves the progress bar (stderr; plain lines when stderr is not a terminal). */
  progress(update: CliProgress): void;
  /** Removes the bar before the summary. */
  endProgress(): void;
}

export interface CliCommandContext {
  /** The account id (`accounts[].id`). */
  account: string;
  /** The service's section of the account's configuration, as parsed by the configuration schema. */
  config: unknown;
  stateDir: string;
  transport: ServiceTransport;
  log: Logger;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: stop at the next safe point; a second Ctrl-C exits at once. */
  signal: AbortSignal;
  terminal: CliTerminal;
}

/** What a service's `load()` resolves to: runs the command, returns the exit code (see `EXIT`). */
export type CliCommandRun = (context: CliCommandContext, options: Record<string, unknown>) => Promise<number>;

interface CommonFlags {
  config?: string;
  account?: string;
  verbose?: boolean;
}

/** Registers every service's commands as `icloud2mqtt <service key> <command>`. */
export function registerServiceCommands(program: Command): void {
  for (const service of GENERIC_SERVICES) {
    if (!service.cli || service.cli.length === 0) continue;
    const group = program.command(service.key).description(`${service.title} commands`);
    for (const spec of service.cli) {
      const command = group
        .command(spec.name)
        .description(spec.description)
        .option("-c, --config <file>", "configuration file (YAML); also $ICLOUD2MQTT_CONFIG")
        .option("-a, --account <id>", "account id (accounts[].id); may be left out with one account")
        .option("-v, --verbose", "log on stderr");
      for (const [flags, description] of spec.options) command.option(flags, description);
      command.action(async (flags: CommonFlags & Record<string, unknown>) => {
        process.exitCode = await runServiceCommand(service.key, spec, flags);
      });
    }
  }
}

async function runServiceCommand(key: string, spec: ServiceCliCommand, flags: CommonFlags & Record<string, unknown>) {
  // Loaded when a service command runs, so that other commands start quickly.
  const [{ loadConfigDetailed }, { ICloudSession }, { SessionStore }, { createLogger }, progress] = await Promise.all([
    import("../config/load.ts"),
    import("../icloud/session.ts"),
    import("../icloud/session-store.ts"),
    import("../pino-logger.ts"),
    import("cli-progress"),
  ]);
  const terminal = terminalOutput(progress.default);
  const loaded = await loadConfigDetailed(flags.config === undefined ? {} : { file: flags.config });
  const { accounts } = loaded.config;
  const account =
    flags.account === undefined && accounts.length === 1 ? accounts[0] : accounts.find((a) => a.id === flags.account);
  if (account === undefined) {
    terminal.warn(
      accounts.length === 0
        ? "no accounts configured: pass --config FILE (see config.example.yaml)"
        : `${flags.account === undefined ? "several accounts configured: pass --account" : `unknown account ${JSON.stringify(flags.account)}`}; configured: ${accounts.map((a) => a.id).join(", ")}`,
    );
    return EXIT.unusable;
  }
  const log = createLogger({
    level: flags.verbose === true ? "debug" : "error",
    destination: process.stderr,
    name: key,
  });
  const stateDir = loaded.config.state_dir;
  const session = await ICloudSession.open({
    username: account.username,
    store: new SessionStore(sessionsDir(stateDir), log),
    logger: log,
    ...(account.endpoint === null ? {} : { endpoint: account.endpoint }),
    china: account.region === "china",
  });
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    terminal.endProgress();
    terminal.warn(
      `${signal === "SIGINT" ? "interrupted" : signal}: stopping; partial files are kept for the next run (Ctrl-C again to quit now)`,
    );
    controller.abort(new EngineError("INVALID_STATE", "interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    // The stored session only (validated, and taken over from another process that refreshed it):
    // no password, so never a second sign-in next to the bridge or `login`.
    const snapshot = await session.signIn();
    if (snapshot.state !== "active") {
      terminal.warn(
        `no usable stored session for ${account.username} (${snapshot.error ?? snapshot.state}): sign in with ` +
          `\`icloud2mqtt login --username ${account.username} --state-dir ${stateDir}\` or let the bridge sign in, then run this again`,
      );
      return EXIT.unusable;
    }
    const run = (await spec.load()) as CliCommandRun;
    const section = (account as unknown as Record<string, unknown>)[key];
    const code = await run(
      { account: account.id, config: section, stateDir, transport: session, log, signal: controller.signal, terminal },
      flags,
    );
    return controller.signal.aborted ? EXIT.interrupted : code;
  } catch (error) {
    terminal.endProgress();
    if (controller.signal.aborted) return EXIT.interrupted;
    terminal.warn(
      isEngineError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error),
    );
    return EXIT.failed;
  } finally {
    terminal.endProgress();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await session.close();
  }
}

/** stdout for results, stderr for the bar (cli-progress) or, off a terminal, a line per 10 %. */
function terminalOutput(cliProgress: typeof import("cli-progress")): CliTerminal {
  let bar: SingleBar | undefined;
  let lastStep = -1;
  const tty = process.stderr.isTTY === true;
  return {
    line: (text) => process.stdout.write(`${text}\n`),
    warn: (text) => process.stderr.write(`${text}\n`),
    progress: ({ done, total, detail }) => {
      if (!tty) {
        const step = total === 0 ? 10 : Math.floor((done / total) * 10);
        if (step !== lastStep) {
          lastStep = step;
          process.stderr.write(`${done}/${total} ${detail}\n`);
        }
        return;
      }
      if (bar === undefined) {
        bar = new cliProgress.SingleBar(
          { format: "{bar} {percentage}% | {value}/{total} | {detail}", hideCursor: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { detail });
      }
      bar.setTotal(total);
      bar.update(done, { detail });
    },
    endProgress: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
