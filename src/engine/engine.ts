import type { Config } from "../config/schema.ts";
import { EngineError } from "../errors.ts";
import { SessionStore } from "../icloud/session-store.ts";
import { sessionsDir } from "../icloud/state-dir.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { VERSION } from "../version.ts";
import { AccountRunner } from "./account-runner.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "./api.ts";
import { COMMAND_SCHEMAS, type CommandInput, type CommandName } from "./commands.ts";
import { EventBus } from "./event-bus.ts";
import type { EngineEvents, LogEntry } from "./events.ts";
import { LogBuffer } from "./log-buffer.ts";
import { Scheduler } from "./scheduler.ts";
import { EngineStateStore } from "./state-store.ts";
import { teeLogger } from "./tee-logger.ts";

export interface EngineOptions {
  config: Config;
  logger?: Logger;
  /** First retry delay after a transient sign-in failure (tests shorten it); default one minute. */
  retryDelayMs?: number;
}

/** The bridge's core: one runner per account behind the one API all front-ends use. */
export class Engine implements EngineApi {
  readonly bus: EventBus<EngineEvents>;
  readonly version = VERSION;
  readonly #runners = new Map<string, AccountRunner>();
  readonly #scheduler: Scheduler;
  readonly #logs = new LogBuffer();
  readonly #log: Logger;
  readonly #config: Config;

  constructor(options: EngineOptions) {
    this.#config = options.config;
    const base = options.logger ?? silentLogger;
    this.bus = new EventBus<EngineEvents>(base.child({ module: "bus" }));
    const sink = (entry: LogEntry) => {
      this.#logs.add(entry);
      this.bus.emit("log", entry);
    };
    this.#log = teeLogger(base.child({ module: "engine" }), null, sink);
    this.#scheduler = new Scheduler(this.#log);
    const stateDir = options.config.state_dir;
    const store = new EngineStateStore(stateDir, this.#log);
    const sessionStore = new SessionStore(sessionsDir(stateDir), this.#log);
    for (const account of options.config.accounts) {
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

  async stop(): Promise<void> {
    await this.#scheduler.stop();
    for (const runner of this.#runners.values()) await runner.stop();
  }

  accounts(): AccountSummary[] {
    return this.#config.accounts.map((a) => ({
      id: a.id,
      username: a.username,
      services: { findmy: a.findmy.enabled, photos: a.photos.enabled, calls: a.calls.enabled },
    }));
  }

  runner(account?: string): AccountRunner {
    const id = account ?? this.#config.accounts[0]?.id;
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

  /** Parses `input` with the command's schema, then runs it. Rejects with a EngineError. */
  async execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<unknown> {
    const parsed = COMMAND_SCHEMAS[command].safeParse(input);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
      throw new EngineError("INVALID_INPUT", detail);
    }
    return this.#run(command, parsed.data as CommandInput<CommandName>);
  }

  async #run(command: CommandName, input: CommandInput<CommandName>): Promise<unknown> {
    const runner = this.runner(input.account);
    switch (command) {
      case "mfa":
        return publicSession(await runner.submitCode((input as CommandInput<"mfa">).code));
      case "resend_mfa": {
        const { method, phone_number_id } = input as CommandInput<"resend_mfa">;
        return publicSession(await runner.requestCode(method, phone_number_id));
      }
      case "choice":
        return publicSession(await runner.submitChoice((input as CommandInput<"choice">).choice));
      case "sync":
        if (runner.session.state !== "active")
          throw new EngineError("NOT_SIGNED_IN", "the iCloud session is not active");
        await runner.sync((input as CommandInput<"sync">).data_types);
        return { state: runner.state.state };
      case "reauthenticate":
        if (runner.state.state === "running")
          throw new EngineError("INVALID_STATE", "a sync or sign-in is in progress");
        return publicSession(await runner.authenticate("auth", true));
      case "locate":
        return { devices: await runner.locate((input as CommandInput<"locate">).device) };
      case "play_sound": {
        const { device, subject } = input as CommandInput<"play_sound">;
        const target = runner.findMy(device);
        await target.service.playSound(target.id, subject);
        return { device: target.id };
      }
      case "send_message": {
        const { device, text, subject, sound } = input as CommandInput<"send_message">;
        const target = runner.findMy(device);
        await target.service.sendMessage(target.id, {
          text,
          ...(subject ? { subject } : {}),
          ...(sound === undefined ? {} : { sound }),
        });
        return { device: target.id };
      }
      case "lost_mode": {
        const { device, text, phone_number, passcode } = input as CommandInput<"lost_mode">;
        const target = runner.findMy(device);
        await target.service.lostMode(target.id, {
          text: text ?? "This device has been lost. Please call the owner.",
          ...(phone_number ? { phoneNumber: phone_number } : {}),
          ...(passcode ? { passcode } : {}),
        });
        return { device: target.id };
      }
    }
  }
}

function publicSession(snapshot: { state: string; error: string | null; awaiting: string | null }) {
  return { session: snapshot.state, error: snapshot.error, awaiting: snapshot.awaiting };
}
