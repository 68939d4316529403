import { execFile } from "node:child_process";
import { type EventEmitter, once } from "node:events";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Aedes } from "aedes";
import type { IClientOptions, MqttClient } from "mqtt";
import { generate } from "selfsigned";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWebSocketStream, WebSocketServer } from "ws";
import { connectMqtt } from "../../src/mqtt/connect.ts";

const USER = "bridge";
const PASSWORD = "pw:with@odd/chars";
/** The password as a URL's user info carries it. */
const URL_PASSWORD = encodeURIComponent(PASSWORD);

interface Login {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
}

/** One aedes broker behind plain TCP, TLS and WebSocket listeners; only USER/PASSWORD gets in. */
interface Brokers {
  logins: Login[];
  /** SNI host names TLS clients sent. */
  servernames: Array<string | false>;
  tcpPort: number;
  tlsPort: number;
  wsPort: number;
  /** Listening on `::1` too, when the machine has IPv6. */
  tcp6Port: number | undefined;
  ca: string;
  /** Drops every TCP and TLS connection without an MQTT DISCONNECT. */
  drop(): void;
  close(): Promise<void>;
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function startBrokers(): Promise<Brokers> {
  const broker = await Aedes.createBroker();
  const logins: Login[] = [];
  broker.authenticate = (client, username, password, done) => {
    logins.push({ clientId: client.id, username, password: password?.toString("utf8") });
    done(null, username === USER && password?.toString("utf8") === PASSWORD);
  };
  const sockets = new Set<Socket>();
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    broker.handle(socket);
  };
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  const servernames: Array<string | false> = [];
  const tcp = createTcpServer(accept);
  const tls = createTlsServer({ cert: pems.cert, key: pems.private }, (socket: TLSSocket) => {
    servernames.push(socket.servername ?? false);
    accept(socket);
  });
  tls.on("tlsClientError", () => undefined);
  const tcp6 = createTcpServer(accept);
  const tcp6Port = await listen(tcp6, "::1").catch(() => undefined);
  const ws = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  ws.on("connection", (socket) => {
    const stream = createWebSocketStream(socket);
    stream.on("error", () => undefined);
    broker.handle(stream);
  });
  await once(ws, "listening");
  const wsAddress = ws.address();
  return {
    logins,
    servernames,
    tcpPort: await listen(tcp, "127.0.0.1"),
    tlsPort: await listen(tls, "127.0.0.1"),
    wsPort: typeof wsAddress === "object" && wsAddress !== null ? wsAddress.port : 0,
    tcp6Port,
    ca: pems.cert,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      for (const client of ws.clients) client.terminate();
      const closing = (close: (done: () => void) => unknown) => new Promise<void>((resolve) => close(() => resolve()));
      await Promise.all([
        closing((done) => tcp.close(done)),
        closing((done) => tls.close(done)),
        closing((done) => (tcp6Port === undefined ? done() : tcp6.close(done))),
        closing((done) => ws.close(done)),
      ]);
      await closing((done) => broker.close(done));
    },
  };
}

let brokers: Brokers;
beforeAll(async () => {
  brokers = await startBrokers();
});
afterAll(async () => {
  await brokers.close();
});

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  brokers.logins.length = 0;
  brokers.servernames.length = 0;
});

/** A client that reconnects quickly by default (`reconnectPeriod: 0` to not). */
function connect(url: string, options: IClientOptions = {}): MqttClient {
  const client = connectMqtt(url, { reconnectPeriod: 20, ...options });
  clients.push(client);
  return client;
}

/** The client's next `event` (its arguments); rejects on an `error` first. */
function next(client: MqttClient, event: "connect" | "close" | "message" | "error"): Promise<unknown[]> {
  return once(client as unknown as EventEmitter, event);
}

/** Waits for the client's next CONNACK; rejects on an `error` first. */
async function connected(client: MqttClient): Promise<void> {
  await next(client, "connect");
}

/** Subscribes, publishes at QoS 1 and returns what came back. */
async function roundTrip(client: MqttClient, topic = "connect-test/echo"): Promise<string> {
  await client.subscribeAsync(topic, { qos: 1 });
  const received = next(client, "message");
  await client.publishAsync(topic, `hello over ${client.options.protocol}`, { qos: 1 });
  const [from, payload] = (await received) as [string, Buffer];
  return `${from}: ${payload.toString("utf8")}`;
}

async function errorOf(client: MqttClient): Promise<unknown> {
  const [error] = await next(client, "error");
  return error;
}

describe("connectMqtt over mqtt://", () => {
  it("logs in with the user info of the URL (percent-decoded) and carries messages", async () => {
    const client = connect(`mqtt://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.tcpPort}`, { clientId: "from-url" });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtt");
    expect(brokers.logins).toEqual([{ clientId: "from-url", username: USER, password: PASSWORD }]);
  });

  it("logs in with username and password from the options", async () => {
    const client = connect(`tcp://127.0.0.1:${brokers.tcpPort}`, {
      clientId: "from-options",
      username: USER,
      password: PASSWORD,
    });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over tcp");
    expect(brokers.logins).toEqual([{ clientId: "from-options", username: USER, password: PASSWORD }]);
  });

  it("lets the URL's user info and ?clientId= win over the options, as mqtt.js does", async () => {
    const client = connect(`mqtt://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.tcpPort}/?clientId=from-query`, {
      clientId: "from-options",
      username: "someone-else",
      password: "wrong",
    });
    await connected(client);
    expect(brokers.logins).toEqual([{ clientId: "from-query", username: USER, password: PASSWORD }]);
  });

  it("reports a refused login as the broker's CONNACK code", async () => {
    const client = connect(`mqtt://${USER}:wrong@127.0.0.1:${brokers.tcpPort}`, { reconnectPeriod: 0 });
    const error = await errorOf(client);
    expect(error).toMatchObject({ code: 5, message: "Connection refused: Not authorized" });
    expect(client.connected).toBe(false);
  });

  it("reconnects after the broker drops the connection, with the same login", async () => {
    const client = connect(`mqtt://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.tcpPort}`, { clientId: "again" });
    await connected(client);
    const closed = next(client, "close");
    brokers.drop();
    await closed;
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtt");
    expect(brokers.logins).toEqual([
      { clientId: "again", username: USER, password: PASSWORD },
      { clientId: "again", username: USER, password: PASSWORD },
    ]);
  });

  it("reaches an IPv6 literal host", async (context) => {
    if (brokers.tcp6Port === undefined) context.skip("no IPv6 on this machine");
    const client = connect(`mqtt://${USER}:${URL_PASSWORD}@[::1]:${brokers.tcp6Port}`);
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtt");
  });

  it("says ECONNREFUSED when nothing listens", async () => {
    const closed = createTcpServer();
    const port = await listen(closed, "127.0.0.1");
    await new Promise((resolve) => closed.close(resolve));
    const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    expect(await errorOf(client)).toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("connectMqtt over mqtts://", () => {
  const url = () => `mqtts://${USER}:${URL_PASSWORD}@localhost:${brokers.tlsPort}`;

  it("connects to a broker whose certificate the given CA signed, sending the host name as SNI", async () => {
    const client = connect(url(), { ca: brokers.ca });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtts");
    expect(brokers.servernames).toEqual(["localhost"]);
  });

  it("sends no SNI for an IP address (the certificate names it too)", async () => {
    const client = connect(`ssl://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.tlsPort}`, { ca: brokers.ca });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over ssl");
    expect(brokers.servernames).toEqual([false]);
  });

  it("refuses an untrusted certificate with the TLS error and never connects", async () => {
    const client = connect(url(), { reconnectPeriod: 0 });
    const connects: unknown[] = [];
    client.on("connect", (packet) => connects.push(packet));
    expect(await errorOf(client)).toMatchObject({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    await next(client, "close");
    expect(connects).toEqual([]);
    expect(brokers.logins).toEqual([]);
  });

  it("accepts the untrusted certificate with rejectUnauthorized: false", async () => {
    const client = connect(url(), { rejectUnauthorized: false });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtts");
  });

  it("reconnects over TLS after the broker drops the connection", async () => {
    const client = connect(url(), { ca: brokers.ca, clientId: "tls-again" });
    await connected(client);
    const closed = next(client, "close");
    brokers.drop();
    await closed;
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over mqtts");
    expect(brokers.logins.map((login) => login.clientId)).toEqual(["tls-again", "tls-again"]);
    expect(brokers.servernames).toEqual(["localhost", "localhost"]);
  });
});

describe("connectMqtt over ws://", () => {
  it("goes through mqtt.js's WebSocket transport", async () => {
    const client = connect(`ws://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.wsPort}`, { clientId: "web" });
    await connected(client);
    expect(await roundTrip(client)).toBe("connect-test/echo: hello over ws");
    expect(brokers.logins).toEqual([{ clientId: "web", username: USER, password: PASSWORD }]);
  });
});

describe("what connectMqtt loads", () => {
  it("loads mqtt.js's client but not its entry, WebSocket, SOCKS or worker-timer packages", async () => {
    const entry = new URL("../../src/mqtt/connect.ts", import.meta.url).href;
    const script = `
      import { registerHooks } from "node:module";
      import { once } from "node:events";
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      const { connectMqtt } = await import(${JSON.stringify(entry)});
      for (const [url, options] of JSON.parse(process.env.TARGETS)) {
        const client = connectMqtt(url, { ...options, reconnectPeriod: 0 });
        await once(client, "connect");
        await client.publishAsync("connect-test/loads", "x", { qos: 1 });
        await client.endAsync();
      }
      process.stdout.write(JSON.stringify(loaded));`;
    const targets = [
      [`mqtt://${USER}:${URL_PASSWORD}@127.0.0.1:${brokers.tcpPort}`, {}],
      [`mqtts://${USER}:${URL_PASSWORD}@localhost:${brokers.tlsPort}`, { ca: brokers.ca }],
    ];
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { ...process.env, TARGETS: JSON.stringify(targets) },
    });
    const loaded = JSON.parse(stdout) as string[];
    expect(brokers.logins).toHaveLength(2);
    expect(loaded.some((url) => url.endsWith("/node_modules/mqtt/build/lib/client.js"))).toBe(true);
    const unwanted = loaded.filter((url) =>
      /\/node_modules\/(ws|socks|ip-address|smart-buffer|worker-timers|worker-timers-broker|broker-factory|fast-unique-numbers|@babel\/runtime)\/|\/node_modules\/mqtt\/build\/(index|mqtt|lib\/connect\/\w+)\.js$/.test(
        url,
      ),
    );
    expect(unwanted).toEqual([]);
  });
});
