import type { z } from "zod";
import { EngineError } from "../errors.ts";
import type { HttpClientOptions } from "../icloud/http.ts";
import { SessionStore } from "../icloud/session-store.ts";
import { sessionsDir } from "../icloud/state-dir.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { within } from "../util/within.ts";
import { VERSION } from "../version.ts";
import { type AccountConfig, type AccountConfigInput, AccountListSchema } from "./account-config.ts";
import { AccountRunner } from "./account-runner.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "./api.ts";
import {
  COMMAND_SCHEMAS,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type CommandResults,
  isCoreCommand,
  type SessionOutcome,
} from "./commands.ts";
import { EventBus } from "./event-bus.ts";
import type { EngineEvents, LogEntry } from "./events.ts";
import type { Limits } from "./limits.ts";
import { LogBuffer } from "./log-buffer.ts";
import { Scheduler } from "./scheduler.ts";
import { GENERIC_SERVICES } from "./services/generic.ts";
import type { ServiceKey } from "./services/types.ts";
import { EngineStateStore } from "./state-store.ts";
import { teeLogger } from "./tee-logger.ts";

export interface EngineOptions {
  /** The accounts to run, as in the configuration's `accounts:` (parsed here; defaults filled in). */
  accounts: readonly AccountConfigInput[];
  /** Where sessions (0600), engine state and download indexes live. */
  stateDir: string;
  /** Defaults to a logger that drops everything. */
  logger?: Logger;
  /** First retry delay after a transient sign-in failure (tests shorten it); default one minute. */
  retryDelayMs?: number;
  /**
   * Per-account budgets of code attempts, code requests, re-authentications and full sign-ins
   * (`DEFAULT_LIMITS` in limits.ts); exceeding one rejects with RATE_LIMITED and `retry_after`.
   */
  limits?: Partial<Limits>;
  /** HTTP client settings of every iCloud session (back-off, timeouts); tests shorten them. */
  http?: HttpClientOptions;
}

/** `stop()` waits at most this long for the jobs, and then for the commands, in flight. */
const STOP_WAIT_MS = 10_000;

/** `code: message; key.path: message` from a zod error, never quoting the input. */
function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

/**
 * The engine: one runner per account behind the one API all front-ends use. Embed it with
 * `new Engine({ accounts, stateDir, logger })`, `await engine.start()`, subscribe to `engine.bus`,
 * run commands with `engine.execute(…)`, and `await engine.stop()`.
 */
export class Engine implements EngineApi {
  readonly bus: EventBus<EngineEvents>;
  readonly version = VERSION;
  readonly #accounts: readonly AccountConfig[];
  readonly #runners = new Map<string, AccountRunner>();
  readonly #scheduler: Scheduler;
  readonly #logs = new LogBuffer();
  readonly #log: Logger;
  /** Commands running now, awaited by `stop()`. */
  readonly #commands = new Set<Promise<unknown>>();
  #stopping: Promise<void> | undefined;

  constructor(options: EngineOptions) {
    const accounts = AccountListSchema.safeParse(options.accounts);
    if (!accounts.success) throw new EngineError("CONFIG_INVALID", `accounts: ${describe(accounts.error)}`);
    this.#accounts = accounts.data;
    const base = options.logger ?? silentLogger;
    this.bus = new EventBus<EngineEvents>(base.child({ module: "bus" }));
    const sink = (entry: LogEntry) => {
      this.#logs.add(entry);
      this.bus.emit("log", entry);
    };
    this.#log = teeLogger(base.child({ module: "engine" }), null, sink);
    this.#scheduler = new Scheduler(this.#log);
    const stateDir = options.stateDir;
    const store = new EngineStateStore(stateDir, this.#log);
    const sessionStore = new SessionStore(sessionsDir(stateDir), this.#log);
    for (const account of this.#accounts) {
      const log = teeLogger(base.child({ account: account.id }), account.id, sink);
      this.#runners.set(
        account.id,
        new AccountRunner({
          config: account,
          stateDir,
          bus: this.bus,
          log,
          store,
          sessionStore,
          scheduler: this.#scheduler,
          clearLog: () => this.#logs.clear(account.id),
          ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
          ...(options.limits === undefined ? {} : { limits: options.limits }),
          ...(options.http === undefined ? {} : { http: options.http }),
        }),
      );
    }
  }

  /** Loads every account's persisted state (idempotent; `start` calls it too). */
  async load(): Promise<void> {
    for (const runner of this.#runners.values()) await runner.load();
  }

  async start(): Promise<void> {
    this.#log.info(`icloud2mqtt ${VERSION} starting with ${this.#runners.size} account(s)`);
    for (const runner of this.#runners.values()) await runner.start();
  }

  /**
   * Stops every account. After it resolves nothing writes to the state folder any more, no timer
   * is armed and no request or connection is open: sign-in steps and jobs in flight have their
   * requests cut and are awaited (bounded), commands in flight too. Commands after it are refused
   * (INVALID_STATE). Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // Long job runs (a library download) end at their next step; sessions cut their requests.
    for (const runner of this.#runners.values()) runner.halt();
    if (!(await within(this.#scheduler.stop(), STOP_WAIT_MS)))
      this.#log.warn("a service job did not end within 10 s of stopping; not waiting for it");
    if (!(await within(Promise.allSettled([...this.#commands]), STOP_WAIT_MS)))
      this.#log.warn("a command did not end within 10 s of stopping; not waiting for it");
    for (const runner of this.#runners.values()) await runner.stop();
  }

  accounts(): AccountSummary[] {
    return this.#accounts.map((a) => ({
      id: a.id,
      username: a.username,
      services: Object.fromEntries(
        GENERIC_SERVICES.map((m) => [m.key, m.enabled((a as unknown as Record<string, unknown>)[m.key])]),
      ) as Record<ServiceKey, boolean>,
    }));
  }

  runner(account?: string): AccountRunner {
    const id = account ?? this.#accounts[0]?.id;
    const runner = id === undefined ? undefined : this.#runners.get(id);
    if (!runner)
      throw new EngineError(
        "NOT_FOUND",
        `unknown account ${JSON.stringify(account)}; configured: ${[...this.#runners.keys()].join(", ")}`,
      );
    return runner;
  }

  snapshot(account?: string): AccountSnapshot {
    return this.runner(account).snapshot();
  }

  logs(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[] {
    return this.#logs.list(account, minLevel);
  }

  /** Parses `input` with the command's schema, then runs it. Rejects with an EngineError. */
  async execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandResult<C>> {
    if (this.#stopping !== undefined) throw new EngineError("INVALID_STATE", "the engine is stopping");
    const schema = (COMMAND_SCHEMAS as Record<CommandName, z.ZodType>)[command];
    if (schema === undefined) throw new EngineError("INVALID_INPUT", `unknown command ${JSON.stringify(command)}`);
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new EngineError("INVALID_INPUT", describe(parsed.error));
    const data = parsed.data as { account?: string };
    const runner = this.runner(data.account);
    const run = isCoreCommand(command) ? this.#core(runner, command, data) : this.#service(runner, command, data);
    this.#commands.add(run);
    try {
      return (await run) as CommandResult<C>;
    } finally {
      this.#commands.delete(run);
    }
  }

  async #core(
    runner: AccountRunner,
    command: CommandName,
    input: object,
  ): Promise<CommandResults[keyof CommandResults]> {
    switch (command) {
      case "mfa":
        return outcome(await runner.submitCode((input as CommandInput<"mfa">).code));
      case "resend_mfa": {
        const { method, phone_number_id } = input as CommandInput<"resend_mfa">;
        return outcome(await runner.requestCode(method, phone_number_id));
      }
      case "choice":
        return outcome(await runner.submitChoice((input as CommandInput<"choice">).choice));
      case "sync":
        if (runner.session.state !== "active")
          throw new EngineError("NOT_SIGNED_IN", "the iCloud session is not active");
        await runner.sync((input as CommandInput<"sync">).data_types, { requested: true });
        return { state: runner.state.state };
      case "reauthenticate":
        return outcome(await runner.reauthenticate());
      default:
        throw new EngineError("INVALID_INPUT", `unknown command ${JSON.stringify(command)}`);
    }
  }

  /** A service's command: the service must be enabled for the account and the session active. */
  async #service(runner: AccountRunner, command: CommandName, input: object): Promise<unknown> {
    for (const module of GENERIC_SERVICES) {
      const definition = module.commands[command];
      if (definition === undefined) continue;
      return definition.run(runner.service(module.key as ServiceKey), input);
    }
    throw new EngineError("INVALID_INPUT", `unknown command ${JSON.stringify(command)}`);
  }
}

function outcome(snapshot: {
  state: SessionOutcome["session"];
  error: string | null;
  awaiting: SessionOutcome["awaiting"];
}): SessionOutcome {
  return { session: snapshot.state, error: snapshot.error, awaiting: snapshot.awaiting };
}
