/**
 * The ricloud-compatible API against the simulator for tests: a simulated account, an engine, the
 * API on 127.0.0.1 with a free port and a fresh key, and a small client speaking its wire format.
 */
import { RicloudApiSchema } from "../../src/config/ricloud-api-schema.ts";
import type { Engine } from "../../src/engine/engine.ts";
import type { Logger } from "../../src/logger.ts";
import { KeyStore } from "../../src/ricloud-api/key-store.ts";
import { passwordVerifier } from "../../src/ricloud-api/passwords.ts";
import { RicloudApiServer } from "../../src/ricloud-api/server.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { type EngineHarnessOptions, engineHarness } from "./engine-harness.ts";
import { onCleanup, until } from "./harness.ts";

export interface ApiAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test payloads are asserted field by field
  json: any;
}

export interface RicloudClient {
  url: string;
  token: string;
  request(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; token?: string | null },
  ): Promise<ApiAnswer>;
  /** GET the resource until its `state` is no longer pending/processing. */
  settle(path: string, timeoutMs?: number): Promise<ApiAnswer>;
}

export interface RicloudHarness {
  sim: SimulatorHandle;
  dir: string;
  engine: Engine;
  server: RicloudApiServer;
  client: RicloudClient;
  keys: KeyStore;
}

export function ricloudClient(url: string, token: string): RicloudClient {
  const client: RicloudClient = {
    url,
    token,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const key = options.token === undefined ? token : options.token;
      if (key !== null) headers["authorization"] = `Token ${key}`;
      if (options.body !== undefined) headers["content-type"] ??= "application/json";
      const response = await fetch(new URL(path.replace(/^\//, ""), url), {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, json: text === "" ? null : JSON.parse(text) };
    },
    async settle(path, timeoutMs = 20_000) {
      let answer = await client.request("GET", path);
      const deadline = Date.now() + timeoutMs;
      while (answer.json?.state === "pending" || answer.json?.state === "processing") {
        if (Date.now() > deadline) throw new Error(`${path} still ${answer.json.state}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await client.request("GET", path);
      }
      return answer;
    },
  };
  return client;
}

export interface RicloudHarnessOptions extends EngineHarnessOptions {
  /** `ricloud_api:` settings (enabled, loopback and a free port are set). */
  api?: Record<string, unknown>;
  webhookRetryDelaysMs?: readonly number[];
  subscriptionMinGapMs?: number;
  logger?: Logger;
  /** Start the engine (default true). */
  startEngine?: boolean;
  /** The password the configuration holds, for the API's password check (default the account's). */
  configuredPassword?: string | null;
}

export async function ricloudHarness(options: RicloudHarnessOptions): Promise<RicloudHarness> {
  const {
    api,
    webhookRetryDelaysMs,
    subscriptionMinGapMs,
    logger,
    startEngine = true,
    configuredPassword,
    ...engineOptions
  } = options;
  const { sim, dir, engine } = await engineHarness(engineOptions);
  const server = new RicloudApiServer({
    api: engine,
    config: RicloudApiSchema.parse({ enabled: true, host: "127.0.0.1", port: 0, ...api }),
    stateDir: dir,
    verifyPassword: passwordVerifier([
      { id: options.id, password: configuredPassword === undefined ? options.account.password : configuredPassword },
    ]),
    ...(webhookRetryDelaysMs ? { webhookRetryDelaysMs } : {}),
    ...(subscriptionMinGapMs === undefined ? {} : { subscriptionMinGapMs }),
    ...(logger ? { logger } : {}),
  });
  await engine.load();
  const { url } = await server.start();
  onCleanup(() => server.stop());
  const keys = new KeyStore(dir);
  const { token } = await keys.create("tests");
  if (startEngine) await engine.start();
  return { sim, dir, engine, server, client: ricloudClient(url, token), keys };
}

/** Waits until the engine's account waits for a code or a choice. */
export async function untilBlocked(engine: Engine, account: string): Promise<void> {
  await until(() => engine.snapshot(account).state.state === "blocked", "the account to wait for a code");
}
