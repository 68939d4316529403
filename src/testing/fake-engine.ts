import type { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../engine/api.ts";
import {
  COMMAND_SCHEMAS,
  type CommandInput,
  type CommandName,
  type CommandResult,
  type SessionOutcome,
} from "../engine/commands.ts";
import { EventBus } from "../engine/event-bus.ts";
import type { EngineEvents, LogEntry } from "../engine/events.ts";
import { SERVICES } from "../engine/services/registry.ts";
import type { ServiceKey, ServiceSnapshots } from "../engine/services/types.ts";
import { EngineError } from "../errors.ts";
import { fakeAccountState } from "./fixtures.ts";

export interface FakeAccount {
  id: string;
  /** Default `<id>@example.com`. */
  username?: string;
  /** Services the account uses (default all). */
  services?: Partial<Record<ServiceKey, boolean>>;
}

const LEVELS: LogEntry["level"][] = ["debug", "info", "warn", "error"];

/**
 * A fake engine behind the real `EngineApi` seam, for testing front-ends without iCloud: a real
 * `EventBus` (emit on `fake.bus` to drive the front-end), states and snapshots the test sets,
 * and `execute` validating with the real command schemas and recording every accepted call. By
 * default `mfa` accepts only `acceptedCodes` (others reject with `CODE_INVALID` and the account
 * stays blocked), `choice` moves on to waiting for a code, and Find My and the listing commands
 * answer from the snapshot; set `handler` to answer differently or `failNext[command]` to make one call fail.
 */
export class FakeEngine implements EngineApi {
  readonly bus = new EventBus<EngineEvents>();
  version = "0.0.0-test";
  /** Every command that passed validation, in order. */
  readonly executed: Array<{ command: CommandName; input: unknown }> = [];
  /** What `logs()` filters. */
  logEntries: LogEntry[] = [];
  /** Codes `mfa` accepts. */
  acceptedCodes: string[] = ["123456"];
  /** Makes the next `execute` of a command reject with this error. */
  failNext: Partial<Record<CommandName, EngineError>> = {};
  /** Replaces the built-in answers. */
  handler: ((command: CommandName, input: unknown) => Promise<unknown>) | undefined;
  readonly #accounts: AccountSummary[];
  readonly #snapshots = new Map<string, AccountSnapshot>();

  constructor(accounts: ReadonlyArray<string | FakeAccount> = ["main"]) {
    this.#accounts = accounts.map((a) => {
      const account = typeof a === "string" ? { id: a } : a;
      const services = Object.fromEntries(SERVICES.map(({ key }) => [key, account.services?.[key] ?? true])) as Record<
        ServiceKey,
        boolean
      >;
      return { id: account.id, username: account.username ?? `${account.id}@example.com`, services };
    });
    for (const summary of this.#accounts) {
      const empty = Object.fromEntries(SERVICES.map((s) => [s.key, s.emptySnapshot()])) as ServiceSnapshots;
      this.#snapshots.set(summary.id, {
        state: fakeAccountState(summary.id, { services: summary.services }),
        ...empty,
      });
    }
  }

  /** Replaces an account's state and emits `account.state`, as the engine does. */
  setState(account: string, state: AccountState): void {
    this.#snapshots.set(account, { ...this.#snapshot(account), state });
    this.bus.emit("account.state", state);
  }

  /** Replaces parts of an account's snapshot (no event: emit on `bus` for that). */
  setSnapshot(account: string, parts: Partial<AccountSnapshot>): void {
    this.#snapshots.set(account, { ...this.#snapshot(account), ...parts });
  }

  accounts(): AccountSummary[] {
    return this.#accounts.map((a) => ({ ...a, services: { ...a.services } }));
  }

  snapshot(account?: string): AccountSnapshot {
    return structuredClone(this.#snapshot(account ?? this.#accounts[0]?.id ?? ""));
  }

  logs(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[] {
    return this.logEntries.filter(
      (e) =>
        (account === undefined || e.account === account || e.account === null) &&
        LEVELS.indexOf(e.level) >= LEVELS.indexOf(minLevel),
    );
  }

  async execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandResult<C>> {
    const schema = (COMMAND_SCHEMAS as Record<string, z.ZodType>)[command];
    if (schema === undefined) throw new EngineError("INVALID_INPUT", `unknown command ${command}`);
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      throw new EngineError("INVALID_INPUT", parsed.error.issues.map((i) => i.message).join("; "));
    }
    this.executed.push({ command, input: parsed.data });
    const failure = this.failNext[command];
    if (failure) {
      delete this.failNext[command];
      throw failure;
    }
    if (this.handler) return (await this.handler(command, parsed.data)) as CommandResult<C>;
    return this.#answer(command, parsed.data as Record<string, unknown>) as CommandResult<C>;
  }

  #snapshot(account: string): AccountSnapshot {
    const snapshot = this.#snapshots.get(account);
    if (!snapshot) throw new EngineError("NOT_FOUND", `unknown account ${JSON.stringify(account)}`);
    return snapshot;
  }

  #answer(command: CommandName, input: Record<string, unknown>): unknown {
    const account = typeof input["account"] === "string" ? input["account"] : (this.#accounts[0]?.id ?? "");
    const snapshot = this.#snapshot(account);
    const active: SessionOutcome = { session: "active", error: null, awaiting: null };
    switch (command) {
      case "mfa":
        if (!this.acceptedCodes.includes(String(input["code"])))
          throw new EngineError("CODE_INVALID", "Apple rejected the code");
        this.setState(account, fakeAccountState(account, { services: this.#services(account) }));
        return active;
      case "choice":
        this.setState(account, fakeAccountState(account, { awaiting: "code", services: this.#services(account) }));
        return { session: "failed", error: "code-required", awaiting: "code" } satisfies SessionOutcome;
      case "resend_mfa":
        return { session: "failed", error: "code-required", awaiting: "code" } satisfies SessionOutcome;
      case "reauthenticate":
        return active;
      case "sync":
        return { state: snapshot.state.state };
      case "locate":
      case "list_devices":
        return { devices: snapshot.findmy.devices };
      case "list_photos":
        return { assets: snapshot.photos.latest === null ? [] : [snapshot.photos.latest.asset] };
      case "list_calls":
        return { calls: snapshot.calls.last === null ? [] : [snapshot.calls.last] };
      case "photo_file":
        throw new EngineError("NOT_FOUND", "the fake engine holds no photo files");
      default: {
        const device = snapshot.findmy.devices.find((d) => d.id === input["device"] || d.name === input["device"]);
        if (device === undefined)
          throw new EngineError("NOT_FOUND", `unknown device ${JSON.stringify(input["device"])}`);
        return { device: device.id };
      }
    }
  }

  #services(account: string): Record<ServiceKey, boolean> {
    return this.#accounts.find((a) => a.id === account)?.services ?? ({} as Record<ServiceKey, boolean>);
  }
}
