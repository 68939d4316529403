import { readFile } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { isLoopbackHost } from "../config/fields.ts";
import type { RicloudApiConfig } from "../config/ricloud-api-schema.ts";
import { parseDuration } from "../config/schedule.ts";
import type { EngineApi } from "../engine/api.ts";
import { EngineError } from "../errors.ts";
import { isCrossSite } from "../http/origin-guard.ts";
import { RateLimiter } from "../http/rate-limit.ts";
import { readBody } from "../http/respond.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { answerClientErrors, listen } from "../util/listen.ts";
import type { ApiDeps } from "./context.ts";
import { RicloudError, toRicloudError } from "./errors.ts";
import { EventHub } from "./events.ts";
import { KeyStore } from "./key-store.ts";
import { PollRunner } from "./polls.ts";
import { parseRelaxedJson } from "./relaxed-json.ts";
import { expireResults } from "./retention.ts";
import { match, type Reply, type RequestContext, type Route } from "./router.ts";
import { accountRoutes } from "./routes-account.ts";
import { configRoutes } from "./routes-configs.ts";
import { eventRoutes } from "./routes-events.ts";
import { pollRoutes } from "./routes-polls.ts";
import { sessionRoutes } from "./routes-sessions.ts";
import { type PasswordVerifier, SessionManager } from "./sessions.ts";
import { StorageRegistry } from "./storage-registry.ts";
import { ApiStore } from "./store.ts";
import { Subscriptions } from "./subscriptions.ts";
import { OfferedTypes } from "./views.ts";

export interface RicloudApiOptions {
  api: EngineApi;
  config: RicloudApiConfig;
  /** Keys, resources and result files live in `<stateDir>/ricloud/`. */
  stateDir: string;
  /** Checks the `payload.password` of a session against the configured account's password. */
  verifyPassword: PasswordVerifier;
  logger?: Logger;
  /** Back-off between webhook delivery attempts (tests shorten it). */
  webhookRetryDelaysMs?: readonly number[];
  /** Shortest gap between a subscription's polls; default a minute (tests shorten it). */
  subscriptionMinGapMs?: number;
}

const MAX_BODY = 64 * 1024;
const MAX_AWAIT_MS = 10_000;
const AUTH_FAILURES_PER_MINUTE = 20;
const TOKEN_HEADER = /^Token ([\x21-\x7e]{1,200})$/;
const RETENTION_SWEEP_MS = 60 * 60_000;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Ricloud-Await: <seconds>` in milliseconds, at most 10 s; absent or unreadable means no wait. */
function awaitMs(req: IncomingMessage): number {
  const raw = header(req, "ricloud-await")?.trim();
  if (raw === undefined || !/^\d{1,6}(?:\.\d{1,3})?$/.test(raw)) return 0;
  return Math.min(MAX_AWAIT_MS, Math.round(Number(raw) * 1000));
}

/**
 * The ricloud-compatible REST API on a listener of its own, served at the root (ricloud-py joins
 * paths with `urljoin`, which drops a base path). Every request needs `Authorization: Token <key>`;
 * keys come from `icloud2mqtt api-key create` and are checked in constant time. Loopback by default;
 * another address needs TLS (`tls_cert`/`tls_key`) or `allow_insecure` (checked here too).
 */
export class RicloudApiServer {
  readonly #o: RicloudApiOptions;
  readonly #log: Logger;
  readonly #authLimiter = new RateLimiter(AUTH_FAILURES_PER_MINUTE);
  #deps: ApiDeps | undefined;
  #routes: Route[] = [];
  #server: Server | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: RicloudApiOptions) {
    const { config } = options;
    if (!isLoopbackHost(config.host) && config.tls_cert === null && !config.allow_insecure) {
      throw new EngineError(
        "CONFIG_INVALID",
        `ricloud_api.host "${config.host}" is not a loopback address: set tls_cert and tls_key, or allow_insecure: true`,
      );
    }
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ module: "ricloud-api" });
  }

  async start(): Promise<{ url: string }> {
    if (this.#server) throw new EngineError("INVALID_STATE", "the ricloud API is already running");
    const { api, config, stateDir } = this.#o;
    const log = this.#log;
    const tls =
      config.tls_cert === null || config.tls_key === null
        ? null
        : { cert: await readTls(config.tls_cert, "tls_cert"), key: await readTls(config.tls_key, "tls_key") };
    const store = await ApiStore.open(stateDir, log);
    const storage = new StorageRegistry(stateDir, store);
    await storage.ensureDefault();
    const types = await OfferedTypes.load();
    const events = new EventHub({
      store,
      log,
      userAgent: `icloud2mqtt/${api.version}`,
      ...(this.#o.webhookRetryDelaysMs ? { retryDelaysMs: this.#o.webhookRetryDelaysMs } : {}),
    });
    const sessions = new SessionManager({
      api,
      store,
      events,
      verifyPassword: this.#o.verifyPassword,
      codeLimiter: new RateLimiter(config.code_attempts_per_minute),
      log,
    });
    const polls = new PollRunner({ api, store, events, storage, types, log });
    const subscriptions = new Subscriptions({
      store,
      polls,
      log,
      ...(this.#o.subscriptionMinGapMs === undefined ? {} : { minGapMs: this.#o.subscriptionMinGapMs }),
    });
    const deps: ApiDeps = {
      api,
      config,
      stateDir,
      store,
      keys: new KeyStore(stateDir),
      sessions,
      polls,
      events,
      storage,
      subscriptions,
      types,
      pollLimiter: new RateLimiter(config.polls_per_minute),
      log,
    };
    this.#routes = [
      ...accountRoutes(deps),
      ...sessionRoutes(deps),
      ...pollRoutes(deps),
      ...eventRoutes(deps),
      ...configRoutes(deps),
    ];
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const options = { requestTimeout: 30_000, headersTimeout: 10_000 };
    const server =
      // Not an ES import of node:http(s): that evaluates every export, loading Node's bundled fetch.
      tls === null
        ? process.getBuiltinModule("node:http").createServer(options, handler)
        : process.getBuiltinModule("node:https").createServer({ ...options, ...tls }, handler);
    answerClientErrors(server);
    try {
      await listen(server, config.port, config.host);
    } catch (error) {
      await store.flush();
      throw new EngineError(
        "CONFIG_INVALID",
        `ricloud_api: cannot listen on ${config.host}:${config.port}: ${String(error)}`,
        { cause: error, info: { key: "ricloud_api.port" } },
      );
    }
    this.#deps = deps;
    this.#server = server;
    sessions.start();
    polls.start();
    events.start();
    subscriptions.start();
    const retention = parseDuration(config.result_retention);
    const sweep = () =>
      void expireResults(store, storage, retention, log).catch((error: unknown) =>
        log.warn("result expiry failed", { error: String(error) }),
      );
    sweep();
    this.#sweep = setInterval(sweep, Math.min(RETENTION_SWEEP_MS, retention));
    this.#sweep.unref?.();
    const address = server.address() as AddressInfo;
    const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
    const url = `${tls === null ? "http" : "https"}://${host.includes(":") ? `[${host}]` : host}:${address.port}/`;
    log.info(`ricloud-compatible API listening on ${url}`);
    return { url };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const deps = this.#deps;
    this.#server = undefined;
    this.#deps = undefined;
    clearInterval(this.#sweep);
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    if (deps) {
      await deps.subscriptions.stop();
      await deps.sessions.stop();
      await deps.polls.stop();
      await deps.events.stop();
      await deps.store.close();
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.#send(res, await this.#dispatch(req));
    } catch (error) {
      const failure = toRicloudError(error);
      if (failure.status >= 500)
        this.#log.error(`${req.method} request failed`, { error: error instanceof Error ? error.message : "" });
      await this.#send(res, { status: failure.status, json: failure.toJSON(), headers: failure.headers });
    }
  }

  async #dispatch(req: IncomingMessage): Promise<Reply> {
    const deps = this.#deps;
    if (deps === undefined) throw new RicloudError(503, "unavailable", "the API is stopping");
    const raw = req.url ?? "";
    if (!raw.startsWith("/") || raw.length > 4096) throw new RicloudError(400, "invalid-request", "malformed URL");
    const url = new URL(`http://localhost${raw}`);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    const method = req.method ?? "";
    this.#log.debug(`${method} ${path}`); // never the query or the body
    const client = req.socket.remoteAddress ?? "unknown";
    const token = TOKEN_HEADER.exec(header(req, "authorization") ?? "")?.[1];
    const key = token === undefined ? null : await deps.keys.verify(token);
    if (key === null) {
      const wait = this.#authLimiter.hit(client);
      if (wait > 0)
        throw new RicloudError(
          429,
          "limit-exceeded",
          `too many failed authentications; retry in ${wait} s`,
          {},
          {
            "retry-after": String(wait),
          },
        );
      throw new RicloudError(
        401,
        token === undefined ? "authentication-required" : "invalid-key",
        token === undefined ? "send Authorization: Token <key>" : "this key is unknown or revoked",
        {},
        { "www-authenticate": 'Token realm="icloud2mqtt"' },
      );
    }
    const { route, params } = match(this.#routes, method, path);
    if (method !== "GET" && isCrossSite(req))
      throw new RicloudError(403, "cross-site", "requests from web pages of other sites are refused");
    const ctx: RequestContext = {
      req,
      key,
      params,
      query: url.searchParams,
      body: method === "POST" ? await jsonBody(req) : {},
      awaitMs: awaitMs(req),
      path,
    };
    return route.handler(ctx);
  }

  async #send(res: ServerResponse, reply: Reply): Promise<void> {
    if (res.headersSent) return;
    const base = { "cache-control": "no-store", "x-content-type-options": "nosniff", ...reply.headers };
    if (reply.stream !== undefined) {
      res.writeHead(reply.status, {
        ...base,
        "content-type": reply.stream.type,
        ...(reply.stream.length === undefined ? {} : { "content-length": String(reply.stream.length) }),
      });
      await pipeline(reply.stream.body, res).catch(() => undefined);
      return;
    }
    const body = JSON.stringify(reply.json ?? null);
    res.writeHead(reply.status, {
      ...base,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
    });
    res.end(body);
  }
}

/**
 * The request body as a JSON object (ricloud-py sends JSON without a content type; ricloud's curl
 * examples' slips are forgiven, see relaxed-json.ts); `{}` when empty.
 */
async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_BODY);
  const text = raw.toString("utf8").trim();
  if (text === "") return {};
  let value: unknown;
  try {
    value = parseRelaxedJson(text);
  } catch {
    throw new RicloudError(400, "invalid-body", "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new RicloudError(400, "invalid-body", "the body must be a JSON object");
  return value as Record<string, unknown>;
}

async function readTls(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new EngineError("CONFIG_INVALID", `ricloud_api.${key}: cannot read ${path}`, { cause: error });
  }
}

/** Creates and starts the API; stop it with the returned `stop()`. */
export async function startRicloudApi(
  options: RicloudApiOptions,
): Promise<{ server: RicloudApiServer; url: string; stop(): Promise<void> }> {
  const server = new RicloudApiServer(options);
  const { url } = await server.start();
  return { server, url, stop: () => server.stop() };
}
