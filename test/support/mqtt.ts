import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { AccountSummary, EngineApi } from "../../src/engine/api.ts";
import { startEmbeddedBroker } from "../../src/mqtt/embedded-broker.ts";
import { MqttFrontend } from "../../src/mqtt/mqtt-frontend.ts";
import type { MqttFrontendOptions } from "../../src/mqtt/options.ts";
import { FakeEngine } from "../../src/testing/fake-engine.ts";
import { FAKE_ASSET, FAKE_CALL, FAKE_JPEG, fakeAccountState, fakeDevice } from "../../src/testing/fixtures.ts";
import { sleep } from "./harness.ts";

// ---------- fixtures ----------

export const SECRET_CODE = "918273";
export const SECRET_PASSWORD = "broker-pw-Zx81!";

/** An account's state: ready with an active session, or blocked with a pending/failed one. */
export function accountState(account: string, session: AccountState["session"]["state"] = "active"): AccountState {
  const state = fakeAccountState(account);
  return {
    ...state,
    state: session === "active" ? "ready" : "blocked",
    nextSync: null,
    prevTrigger: null,
    progress: null,
    session: { state: session, error: null, error_info: null, trust_expires_at: "2026-02-01T00:00:00Z" },
  };
}

/** `accountState` after every enabled service completed a refresh (what lets the stale sweep delete). */
export function refreshedState(account: string): AccountState {
  const state = accountState(account);
  const services = Object.fromEntries(
    Object.entries(state.services).map(([key, status]) => [
      key,
      { ...status, last_sync: status.enabled ? "2026-01-01T12:00:00.000Z" : null },
    ]),
  ) as AccountState["services"];
  return { ...state, services };
}

export const device = fakeDevice;
export const CALL = FAKE_CALL;
export const ASSET = FAKE_ASSET;
export const JPEG = FAKE_JPEG;

/** Every service on, as an account summary lists them. */
export const ALL_SERVICES: AccountSummary["services"] = {
  findmy: true,
  photos: true,
  calls: true,
  contacts: true,
  calendar: true,
  notes: true,
  safari: true,
};

/** Only Find My on. */
export const FINDMY_ONLY: AccountSummary["services"] = {
  findmy: true,
  photos: false,
  calls: false,
  contacts: false,
  calendar: false,
  notes: false,
  safari: false,
};

/** An account summary as the engine lists it. */
export function summary(id: string, services: AccountSummary["services"] = ALL_SERVICES): AccountSummary {
  return { id, username: `${id}.owner@example.com`, services };
}

/**
 * The shared fake engine (the engine's seam, not an MQTT mock) with one account `acct1` whose
 * state is `accountState("acct1")`, answering every command with `{accepted: <command>}`.
 */
export function mqttFakeEngine(accounts: AccountSummary[] = [summary("acct1")]): FakeEngine {
  const engine = new FakeEngine(accounts.map(({ id, username, services }) => ({ id, username, services })));
  engine.version = "0.1.0";
  for (const { id } of accounts) engine.setSnapshot(id, { state: accountState(id) });
  engine.handler = async (command) => ({ accepted: command });
  return engine;
}

export { FakeEngine };

// ---------- brokers ----------

export interface TestBroker {
  name: string;
  url: string;
  port: number;
  close(): Promise<void>;
}

export const MOSQUITTO = "/usr/sbin/mosquitto";
/** Skip mosquitto only where it is not installed and we are not in CI (CI must run it). */
export const skipMosquitto = !existsSync(MOSQUITTO) && process.env["CI"] === undefined;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await sleep(50);
  }
}

export async function startAedes(): Promise<TestBroker> {
  const broker = await startEmbeddedBroker({ port: 0 });
  return { name: "aedes", ...broker };
}

/** Debian's mosquitto without persistence, on `port` (default: a free one; pass the old port to restart it). */
export async function startMosquitto(port?: number): Promise<TestBroker> {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
  await waitForPort(port, 5_000);
  return {
    name: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    // Idempotent: a test may stop the broker itself and leave the cleanup to call this again.
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const BROKERS: Array<{ name: string; start: () => Promise<TestBroker>; skip: boolean }> = [
  { name: "aedes", start: startAedes, skip: false },
  { name: "mosquitto", start: startMosquitto, skip: skipMosquitto },
];

/** A TCP relay in front of a broker; `cut()` drops every connection without an MQTT DISCONNECT. */
export async function startProxy(targetPort: number): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.once("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}

// ---------- Home Assistant's side ----------

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** A second mqtt.js client that records everything under the given filters. */
export class HaClient {
  readonly messages: Received[] = [];
  readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on("message", (topic, payload, packet) => this.messages.push({ topic, payload, retain: packet.retain }));
  }

  static async connect(url: string, filters: string[] = ["#"]): Promise<HaClient> {
    const client = await mqtt.connectAsync(url, {
      clientId: `ha-${Math.random().toString(16).slice(2)}`,
      reconnectPeriod: 0,
    });
    const ha = new HaClient(client);
    if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
    return ha;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  last(topic: string): Received | undefined {
    return this.on(topic).at(-1);
  }

  async waitFor(predicate: (m: Received) => boolean, timeoutMs = 5_000, from = 0): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.slice(from).find(predicate);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) {
        const seen = this.messages.map((m) => `${m.topic} ${m.payload.toString().slice(0, 80)}`).join("\n");
        throw new Error(`timed out; received:\n${seen}`);
      }
      await sleep(20);
    }
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export function json(m: Received | undefined): unknown {
  if (m === undefined) throw new Error("no message");
  return JSON.parse(m.payload.toString("utf8"));
}

export function bridgeFor(api: EngineApi, url: string, options: Partial<MqttFrontendOptions> = {}): MqttFrontend {
  return new MqttFrontend({
    api,
    options: {
      url,
      clientId: `bridge-${Math.random().toString(16).slice(2)}`,
      republishDelayMs: 50,
      staleSweepMs: 300,
      ...options,
    },
  });
}
