import { createRequire, Module } from "node:module";
import { isIP, connect as netConnect, type Socket } from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import type * as Mqtt from "mqtt";
import type { IClientOptions, MqttClient, MqttProtocol } from "mqtt";

const require = createRequire(import.meta.url);

/** Schemes this module connects itself: MQTT over TCP, and over TLS. */
const PLAIN = new Set(["mqtt", "tcp"]);
const SECURE = new Set(["mqtts", "ssl", "tls"]);

/** What a broker URL says, in mqtt.js's terms; undefined when `new URL` cannot read it. */
interface UrlParts {
  protocol: string;
  host: string;
  port: number | undefined;
  username: string | undefined;
  password: string | undefined;
  clientId: string | undefined;
}

function decoded(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

function urlParts(url: string): UrlParts | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const clientIds = parsed.searchParams.getAll("clientId");
  return {
    protocol: parsed.protocol.replace(/:$/, ""),
    // `[::1]` → `::1` (what net and tls take); lower case, as mqtt.js's `url.parse` gives it (and SNI sends it).
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase(),
    port: parsed.port === "" ? undefined : Number(parsed.port),
    username: parsed.username === "" ? undefined : decoded(parsed.username),
    password: parsed.password === "" ? undefined : decoded(parsed.password),
    clientId: clientIds.length === 1 ? clientIds[0] : undefined,
  };
}

/**
 * `mqtt.connect` of mqtt.js itself (every transport: WebSocket, SOCKS, ...), loaded on first use.
 * The URL's user info goes in as `username`/`password` (still winning over the options): mqtt.js
 * splits the decoded `user:password` at its last colon, which breaks a password with a colon.
 */
function viaMqttJs(url: string, options: IClientOptions, fromUrl: UrlParts | undefined): MqttClient {
  const mqtt = require("mqtt") as typeof Mqtt;
  if (fromUrl?.username === undefined && fromUrl?.password === undefined) return mqtt.connect(url, options);
  return mqtt.connect(url.replace(/^([^:/?#]+:\/\/)[^/?#]*@/, "$1"), {
    ...options,
    ...(fromUrl.username === undefined ? {} : { username: fromUrl.username }),
    ...(fromUrl.password === undefined ? {} : { password: fromUrl.password }),
  });
}

/**
 * mqtt.js's keep-alive timer (`lib/get-timer.js`) requires `worker-timers` at load (with
 * worker-timers-broker, broker-factory, fast-unique-numbers and @babel/runtime: 30 files) for
 * browser tabs, whose timers are throttled; outside a browser it uses the native `setInterval`
 * (`timerVariant` "auto"). Unless something loaded it already, this puts the native timers in the
 * module cache (`require.cache`, documented as writable) under `worker-timers`' path, so mqtt.js
 * loads no Worker machinery it would not use; even `timerVariant: "worker"` then gets native timers.
 */
function withoutWorkerTimers(): void {
  const path = createRequire(require.resolve("mqtt/lib/get-timer")).resolve("worker-timers");
  if (require.cache[path] !== undefined) return;
  const native = new Module(path);
  native.filename = path;
  native.loaded = true;
  native.exports = { setInterval, clearInterval };
  require.cache[path] = native;
}

/**
 * A TLS connection as mqtt.js's `tls` transport opens it: errors before the handshake completed
 * (an untrusted certificate, a wrong host name) reach the client as an `error` event when
 * certificates are checked, and end the socket either way. Every option (ca, cert, key, servername,
 * ciphers, ...) goes to `tls.connect`.
 */
function tlsStream(client: MqttClient, options: IClientOptions): TLSSocket {
  const tls = process.getBuiltinModule("node:tls");
  const socket = tls.connect(options as ConnectionOptions);
  const refuse = (error: Error) => {
    if (options.rejectUnauthorized === true) client.emit("error", error);
    socket.end();
  };
  socket.on("error", refuse);
  socket.once("secureConnect", () => {
    if (options.rejectUnauthorized === true && !socket.authorized) {
      socket.emit("error", new Error("TLS not authorized"));
    } else {
      socket.removeListener("error", refuse);
    }
  });
  return socket;
}

/**
 * `mqtt.connect(url, options)` for the bridge's own connections, without loading what mqtt.js's
 * entry loads for every transport (WebSocket, SOCKS proxies) and browser (worker timers): for `mqtt://`,
 * `tcp://`, `mqtts://`, `ssl://` and `tls://` it builds the `MqttClient` over `node:net` or
 * `node:tls` itself (`node:tls` only for TLS). Every other URL (`ws://`, `wss://`, unix sockets),
 * and a SOCKS proxy (`socksProxy`, `MQTTJS_SOCKS_PROXY`) or a server list, goes to `mqtt.connect`.
 *
 * Read the way mqtt.js reads it: explicit options win over the URL's host, port and scheme, but
 * the URL's user info and `?clientId=` win over `username`/`password`/`clientId`; the port defaults
 * to 1883 (8883 with TLS), the host to `localhost`; `cert` and `key` turn `mqtt://` into `mqtts://`
 * (`tcp://` into `ssl://`, which mqtt.js refuses); TLS checks the certificate unless
 * `rejectUnauthorized` is false and sends the host name (not an IP literal) as SNI unless
 * `servername` is set. Unlike mqtt.js, a password in the URL may contain a (percent-encoded) colon.
 * Reconnects call the stream builder again: a new socket to the same place. Like mqtt.js, the
 * client has a no-op `error` listener, so an error nobody listens to does not throw.
 */
export function connectMqtt(url: string, options: IClientOptions = {}): MqttClient {
  const fromUrl = urlParts(url);
  const socksProxy = options.socksProxy ?? process.env["MQTTJS_SOCKS_PROXY"];
  if (fromUrl === undefined || options.servers !== undefined || (socksProxy !== undefined && socksProxy !== "")) {
    return viaMqttJs(url, options, fromUrl);
  }
  const opts: IClientOptions = {
    protocol: fromUrl.protocol as MqttProtocol,
    host: fromUrl.host,
    ...(fromUrl.port === undefined ? {} : { port: fromUrl.port }),
    ...options,
  };
  if (fromUrl.username !== undefined) opts.username = fromUrl.username;
  if (fromUrl.password !== undefined) opts.password = fromUrl.password;
  if (fromUrl.clientId !== undefined) opts.clientId = fromUrl.clientId;
  if (opts.cert !== undefined && opts.key !== undefined) {
    if (opts.protocol === "mqtt") opts.protocol = "mqtts";
    else if (opts.protocol === "tcp") opts.protocol = "ssl";
  }
  const protocol = opts.protocol ?? "";
  const secure = SECURE.has(protocol);
  if (!secure && !PLAIN.has(protocol)) return viaMqttJs(url, options, fromUrl);
  if (opts.clean === false && !opts.clientId) throw new Error("Missing clientId for unclean clients");

  opts.defaultProtocol = opts.protocol;
  delete opts.path;
  const host = opts.hostname || opts.host || "localhost";
  opts.host = host;
  opts.hostname = host;
  opts.port = opts.port || (secure ? 8883 : 1883);
  const port = opts.port;
  if (secure) {
    if (isIP(host) === 0 && !opts.servername) opts.servername = host;
    opts.rejectUnauthorized = opts.rejectUnauthorized !== false;
  }
  const stream = secure
    ? (client: MqttClient): TLSSocket => tlsStream(client, opts)
    : (): Socket => netConnect({ host, port });
  withoutWorkerTimers();
  const { default: Client } = require("mqtt/lib/client") as { default: typeof MqttClient };
  const client = new Client(stream, opts);
  client.on("error", () => undefined);
  return client;
}
