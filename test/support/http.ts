import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpConfig, PushConfig } from "../../src/config/schema.ts";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../../src/engine/api.ts";
import { COMMAND_SCHEMAS, type CommandInput, type CommandName } from "../../src/engine/commands.ts";
import { EventBus } from "../../src/engine/event-bus.ts";
import type { EngineEvents, LogEntry } from "../../src/engine/events.ts";
import { EngineError } from "../../src/errors.ts";
import { HttpServer, type HttpServerOptions } from "../../src/http/index.ts";

/** The code the fake engine accepts; it must never appear in any response. */
export const GOOD_CODE = "918273";
/** The legacy two-step (2SV) code the fake engine accepts as well. */
export const TWO_STEP_CODE = "4821";
export const TOKEN = "s3cret-Token-for-tests-0123456789";

const service = { enabled: true, available: true, message: null, last_sync: null, next_sync: null };

export function readyState(account: string): AccountState {
  return {
    account,
    state: "ready",
    timestamp: 1_767_225_600_000,
    nextSync: 1_767_229_200_000,
    prevError: null,
    prevTrigger: "sync",
    progressMsg: null,
    progress: 100,
    session: { state: "active", error: null, error_info: null, trust_expires_at: "2026-03-01T00:00:00.000Z" },
    services: { findmy: { ...service }, photos: { ...service }, calls: { ...service, enabled: false } },
  };
}

export function blockedState(account: string, awaiting: "code" | "choice" = "code"): AccountState {
  const phones = [
    { id: 1, number: "(•••) •••-••12", push_mode: "sms" },
    { id: 2, number: "+49 ••• •••••34", push_mode: "sms" },
  ];
  return {
    ...readyState(account),
    state: "blocked",
    progressMsg: awaiting === "choice" ? "Waiting for a choice of device..." : "Waiting for MFA code...",
    progress: 25,
    prevTrigger: "auth",
    trustedPhoneNumbers: phones.map((p) => ({ id: p.id, maskedNumber: p.number })),
    session: {
      state: "failed",
      error: awaiting === "choice" ? "choice-required" : "code-required",
      error_info: awaiting === "choice" ? { choices: ["iPhone", "iPad"] } : { trusted_phone_numbers: phones },
      trust_expires_at: null,
    },
  };
}

/** Blocked for a legacy two-step code, as the engine publishes it: no trusted phone numbers. */
export function twoStepState(account: string): AccountState {
  const { trustedPhoneNumbers: _phones, ...rest } = blockedState(account);
  return { ...rest, session: { ...rest.session, error: "code-required", error_info: {} } };
}

/**
 * A fake engine behind the real `EngineApi` seam: a real EventBus, states the test sets,
 * `execute` validating with COMMAND_SCHEMAS like the engine, recording calls, and accepting
 * only GOOD_CODE (other codes reject with CODE_INVALID and the account stays blocked).
 */
export class FakeEngine implements EngineApi {
  readonly bus = new EventBus<EngineEvents>();
  readonly version = "0.0.0-test";
  readonly calls: Array<{ command: CommandName; input: unknown }> = [];
  readonly states = new Map<string, AccountState>();
  entries: LogEntry[] = [];
  /** Makes the next execute() of this command reject. */
  failNext: Partial<Record<CommandName, EngineError>> = {};

  constructor(ids: string[] = ["main", "family"]) {
    for (const id of ids) this.states.set(id, readyState(id));
  }

  set(account: string, state: AccountState): void {
    this.states.set(account, state);
    this.bus.emit("account.state", state);
  }

  accounts(): AccountSummary[] {
    return [...this.states.keys()].map((id) => ({
      id,
      username: `${id}@example.com`,
      services: { findmy: true, photos: true, calls: false },
    }));
  }

  snapshot(account?: string): AccountSnapshot {
    const id = account ?? [...this.states.keys()][0] ?? "";
    const state = this.states.get(id);
    if (!state) throw new EngineError("NOT_FOUND", `unknown account ${id}`);
    return { state: structuredClone(state), devices: [], lastCall: null, latestPhoto: null, photoCount: null };
  }

  logs(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[] {
    const order = ["debug", "info", "warn", "error"];
    return this.entries.filter(
      (e) =>
        (account === undefined || e.account === account || e.account === null) &&
        order.indexOf(e.level) >= order.indexOf(minLevel),
    );
  }

  async execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<unknown> {
    const parsed = COMMAND_SCHEMAS[command].safeParse(input);
    if (!parsed.success) throw new EngineError("INVALID_INPUT", "bad input");
    this.calls.push({ command, input: parsed.data });
    const failure = this.failNext[command];
    if (failure) {
      delete this.failNext[command];
      throw failure;
    }
    const account = (parsed.data as { account?: string }).account ?? "main";
    if (command === "mfa") {
      const code = (parsed.data as { code: string }).code;
      if (code !== GOOD_CODE && code !== TWO_STEP_CODE)
        throw new EngineError("CODE_INVALID", "Apple rejected the code");
      this.set(account, readyState(account));
    }
    if (command === "choice") this.set(account, blockedState(account, "code"));
    return { session: "active" };
  }
}

export function httpConfig(overrides: Partial<HttpConfig> = {}): HttpConfig {
  return {
    enabled: true,
    host: "127.0.0.1",
    port: 0,
    base_path: "/",
    auth_token: null,
    auth_token_file: null,
    allow_unauthenticated: false,
    allowed_hosts: [],
    mfa_attempts_per_minute: 5,
    ...overrides,
  };
}

export interface Harness {
  engine: FakeEngine;
  server: HttpServer;
  url: string;
  stateDir: string;
  close(): Promise<void>;
}

export async function startHarness(
  options: { http?: Partial<HttpConfig>; push?: Partial<PushConfig>; engine?: FakeEngine; stateDir?: string } & Partial<
    Pick<HttpServerOptions, "pushAgent" | "logger">
  > = {},
): Promise<Harness> {
  const engine = options.engine ?? new FakeEngine();
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "icloud2mqtt-http-"));
  const server = new HttpServer({
    api: engine,
    config: httpConfig(options.http),
    push: { enabled: true, subject: "mailto:test@example.com", ...options.push },
    stateDir,
    ...(options.pushAgent ? { pushAgent: options.pushAgent } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const { url } = await server.start();
  return {
    engine,
    server,
    url,
    stateDir,
    close: async () => {
      await server.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
