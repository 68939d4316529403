import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpConfig, PushConfig } from "../../src/config/schema.ts";
import type { AccountState } from "../../src/engine/account-state.ts";
import { HttpServer, type HttpServerOptions } from "../../src/http/index.ts";
import { FakeEngine } from "../../src/testing/fake-engine.ts";
import { fakeAccountState } from "../../src/testing/fixtures.ts";

/** The code the fake engine accepts; it must never appear in any response. */
export const GOOD_CODE = "918273";
/** The legacy two-step (2SV) code the fake engine accepts as well. */
export const TWO_STEP_CODE = "4821";
export const TOKEN = "s3cret-Token-for-tests-0123456789";

/** The HTTP tests' accounts use Find My and photos, not the other services. */
const SERVICES = { calls: false, contacts: false, calendar: false, notes: false, safari: false } as const;

export function readyState(account: string): AccountState {
  return fakeAccountState(account, { services: SERVICES });
}

export function blockedState(account: string, awaiting: "code" | "choice" = "code"): AccountState {
  return fakeAccountState(account, { awaiting, services: SERVICES });
}

/** Blocked for a legacy two-step code, as the engine publishes it: no trusted phone numbers. */
export function twoStepState(account: string): AccountState {
  return fakeAccountState(account, { awaiting: "2sv", services: SERVICES });
}

/** The shared fake engine with the HTTP tests' accounts (`main`, `family`) and codes. */
export function httpFakeEngine(ids: string[] = ["main", "family"]): FakeEngine {
  const engine = new FakeEngine(ids.map((id) => ({ id, services: SERVICES })));
  engine.acceptedCodes = [GOOD_CODE, TWO_STEP_CODE];
  return engine;
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
    map: { tiles: "https://tile.openstreetmap.org/{z}/{x}/{y}.png", attribution: "© OpenStreetMap contributors" },
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
    Pick<HttpServerOptions, "pushAgent" | "logger" | "loginLimit">
  > = {},
): Promise<Harness> {
  const engine = options.engine ?? httpFakeEngine();
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "icloud2mqtt-http-"));
  const server = new HttpServer({
    api: engine,
    config: httpConfig(options.http),
    push: { enabled: true, subject: "mailto:test@example.com", ...options.push },
    stateDir,
    ...(options.pushAgent ? { pushAgent: options.pushAgent } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.loginLimit ? { loginLimit: options.loginLimit } : {}),
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
