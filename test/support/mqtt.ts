import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { AccountSnapshot, AccountSummary, EngineApi } from "../../src/engine/api.ts";
import type { CommandInput, CommandName } from "../../src/engine/commands.ts";
import { EventBus } from "../../src/engine/event-bus.ts";
import type { EngineEvents, LogEntry } from "../../src/engine/events.ts";
import type { CallkitCall } from "../../src/icloud/calls/types.ts";
import type { FmipDevice } from "../../src/icloud/findmy/types.ts";
import type { IcplAsset } from "../../src/icloud/photos/types.ts";
import { startEmbeddedBroker } from "../../src/mqtt/embedded-broker.ts";
import { MqttFrontend } from "../../src/mqtt/mqtt-frontend.ts";
import type { MqttFrontendOptions } from "../../src/mqtt/options.ts";

// ---------- fixtures ----------

export const SECRET_CODE = "918273";
export const SECRET_PASSWORD = "broker-pw-Zx81!";

const service = (enabled: boolean) => ({
  enabled,
  available: enabled,
  message: null,
  last_sync: null,
  next_sync: null,
});

export function accountState(account: string, session: AccountState["session"]["state"] = "active"): AccountState {
  return {
    account,
    state: session === "active" ? "ready" : "blocked",
    timestamp: 1_767_225_600_000,
    nextSync: null,
    prevError: null,
    prevTrigger: null,
    progressMsg: null,
    progress: null,
    session: { state: session, error: null, error_info: null, trust_expires_at: "2026-02-01T00:00:00Z" },
    services: { findmy: service(true), photos: service(true), calls: service(true) },
  };
}

export function device(id: string, name: string, battery = 80): FmipDevice {
  return {
    id,
    data_type: "fmip.device",
    name,
    model_name: "iPhone 15 Pro",
    model_identifier: "iPhone16,1",
    product_type: "iPhone",
    location: {
      data_type: "location",
      latitude: 52.37,
      longitude: 4.89,
      altitude: 3,
      horizontal_accuracy: 35,
      vertical_accuracy: 10,
      positioning_type: "GPS",
      date_created: "2026-01-01T10:00:00Z",
    },
    battery_status: "NotCharging",
    battery_level: battery / 100,
    battery_percent: battery,
    charging: false,
    low_power_mode: false,
    online: true,
    device_status: "200",
    location_capable: true,
    location_stale: false,
    locating: false,
    owner: null,
    last_located: "2026-01-01T10:00:00Z",
  };
}

export const CALL: CallkitCall = {
  id: "call-1",
  data_type: "callkit.call",
  address: "+31200000000",
  name: "Alice",
  date: "2026-01-01T09:00:00Z",
  duration: 0,
  direction: "incoming",
  answered: false,
  missed: true,
  call_type: "phone",
  service_provider: "com.apple.Telephony",
  iso_country_code: "nl",
};

export const ASSET: IcplAsset = {
  id: "asset-1",
  data_type: "icpl.asset",
  filename: "IMG_0001.HEIC",
  files: [],
  date_created: "2026-01-01T08:00:00Z",
  date_uploaded: "2026-01-01T08:05:00Z",
  media_type: "photo",
  favorite: false,
  hidden: false,
  master_id: "master-1",
  zone: "PrimarySync",
};

export const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);

// ---------- the fake engine (the engine's seam, not an MQTT mock) ----------

export class FakeEngine implements EngineApi {
  readonly bus = new EventBus<EngineEvents>();
  readonly version = "0.1.0";
  readonly executed: Array<{ command: CommandName; input: unknown }> = [];
  summaries: AccountSummary[];
  snapshots = new Map<string, AccountSnapshot>();
  /** Replace to make `execute` fail or answer differently. */
  handler: (command: CommandName, input: unknown) => Promise<unknown> = async (command) => ({ accepted: command });

  constructor(summaries: AccountSummary[] = [FakeEngine.summary("acct1")]) {
    this.summaries = summaries;
    for (const s of summaries) {
      this.snapshots.set(s.id, {
        state: accountState(s.id),
        devices: [],
        lastCall: null,
        latestPhoto: null,
        photoCount: null,
      });
    }
  }

  static summary(id: string, services = { findmy: true, photos: true, calls: true }): AccountSummary {
    return { id, username: `${id}.owner@example.com`, services };
  }

  accounts(): AccountSummary[] {
    return this.summaries;
  }
  snapshot(account?: string): AccountSnapshot {
    const snap = this.snapshots.get(account ?? this.summaries[0]?.id ?? "");
    if (snap === undefined) throw new Error(`no account ${account}`);
    return snap;
  }
  logs(_account: string | undefined, _minLevel: LogEntry["level"]): LogEntry[] {
    return [];
  }
  execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<unknown> {
    this.executed.push({ command, input });
    return this.handler(command, input);
  }
}

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

export async function startMosquitto(): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
  await waitForPort(port, 5_000);
  return {
    name: "mosquitto",
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
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
    await client.subscribeAsync(filters, { qos: 1 });
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
