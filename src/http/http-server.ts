import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";
import { z } from "zod";
import { isLoopbackHost } from "../config/fields.ts";
import type { HttpConfig, PushConfig } from "../config/schema.ts";
import type { EngineApi } from "../engine/api.ts";
import { EngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { answerClientErrors, listen } from "../util/listen.ts";
import { TokenAuth } from "./auth.ts";
import type { Method, RouteContext, Routes, Services } from "./context.ts";
import { errorReply, HttpError } from "./http-errors.ts";
import { isAllowedHost, isCrossSite } from "./origin-guard.ts";
import { PushNotifier } from "./push-notifier.ts";
import { RateLimiter } from "./rate-limit.ts";
import { message, type Reply, redirect, send } from "./respond.ts";
import { actionRoutes } from "./routes-actions.ts";
import { mfaRoutes } from "./routes-mfa.ts";
import { pushRoutes } from "./routes-push.ts";
import { serviceRoutes } from "./routes-services.ts";
import { stateRoutes } from "./routes-state.ts";
import { PUBLIC_PATHS, uiRoutes } from "./routes-ui.ts";
import { StaticUi } from "./static-ui.ts";
import { VendorFiles } from "./vendor.ts";

export interface HttpServerOptions {
  api: EngineApi;
  config: HttpConfig;
  push: PushConfig;
  /** Where the VAPID keys and push subscriptions are kept (`web-push.json`, 0600). */
  stateDir: string;
  logger?: Logger;
  /** HTTPS agent for push-service requests (corporate proxies, tests with a private CA). */
  pushAgent?: Agent;
  /** Failed web logins allowed per client address and window (default 10 per minute; tests shorten it). */
  loginLimit?: { attempts: number; windowMs: number };
}

/**
 * A path only: `/` and segments of URL-safe characters. No `//` (a protocol-relative URL: a base
 * href or login redirect to another host), no `.` or `..` segments.
 */
const IngressPathSchema = z
  .string()
  .max(300)
  .regex(/^\/(?:[A-Za-z0-9._~-]+\/)*[A-Za-z0-9._~-]*$/)
  .refine((path) => !path.split("/").some((segment) => segment === "." || segment === ".."));

function withSlash(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The local HTTP server: icloud-photos-sync compatible `/api`, the web UI (PWA) and Web Push.
 * Binds to loopback by default; any other address needs `auth_token` or an explicit
 * `allow_unauthenticated` (checked here too, not only by the config loader). Without a token,
 * only loopback names, IP addresses and `allowed_hosts` are answered (DNS rebinding).
 */
export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #log: Logger;
  readonly #basePath: string;
  readonly #auth: TokenAuth | null;
  #server: Server | undefined;
  #push: PushNotifier | null = null;
  #routes: Routes = {};

  constructor(options: HttpServerOptions) {
    const { config } = options;
    const token = config.auth_token;
    if (!isLoopbackHost(config.host) && (token === null || token === "") && !config.allow_unauthenticated) {
      throw new EngineError(
        "CONFIG_INVALID",
        `http.host "${config.host}" is not a loopback address: set http.auth_token(_file), or http.allow_unauthenticated: true behind an authenticating proxy`,
      );
    }
    this.#options = options;
    this.#log = (options.logger ?? silentLogger).child({ module: "http" });
    this.#basePath = withSlash(config.base_path);
    this.#auth = token === null || token === "" ? null : new TokenAuth(token);
  }

  /** Present once started when push is enabled. */
  get push(): PushNotifier | null {
    return this.#push;
  }

  async start(): Promise<{ url: string }> {
    if (this.#server) throw new EngineError("INVALID_STATE", "the HTTP server is already running");
    const { api, config, push } = this.#options;
    const vendor = await VendorFiles.load();
    if (push.enabled) {
      this.#push = new PushNotifier({
        stateDir: this.#options.stateDir,
        subject: push.subject,
        logger: this.#log,
        ...(this.#options.pushAgent ? { agent: this.#options.pushAgent } : {}),
      });
      await this.#push.start(api.bus);
    }
    const services: Services = {
      api,
      logger: this.#log,
      mfaLimiter: new RateLimiter(config.mfa_attempts_per_minute),
      loginLimiter: new RateLimiter(
        this.#options.loginLimit?.attempts ?? 10,
        this.#options.loginLimit?.windowMs ?? 60_000,
      ),
      auth: this.#auth,
      push: this.#push,
      ui: await StaticUi.load(),
      vendor,
      map:
        config.map.tiles !== null && vendor.hasMap
          ? { tiles: config.map.tiles, attribution: config.map.attribution }
          : null,
    };
    this.#routes = Object.assign(
      {},
      stateRoutes(services),
      await serviceRoutes(services),
      actionRoutes(services),
      mfaRoutes(services),
      pushRoutes(services),
      uiRoutes(services),
    );
    // Not `import { createServer } from "node:http"`: an ES import of node:http evaluates all its
    // exports, which loads Node's bundled fetch/WebSocket (about 10 MB of memory) for nothing.
    const server = process
      .getBuiltinModule("node:http")
      .createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
        void this.#handle(req, res);
      });
    answerClientErrors(server);
    try {
      await listen(server, config.port, config.host);
    } catch (error) {
      this.#push?.stop();
      throw new EngineError("CONFIG_INVALID", `cannot listen on ${config.host}:${config.port}: ${String(error)}`, {
        cause: error,
      });
    }
    this.#server = server;
    const address = server.address() as AddressInfo;
    const host = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}${this.#basePath}`;
    this.#log.info(`HTTP API and web UI listening on ${url}${this.#auth ? " (token required)" : ""}`);
    return { url };
  }

  async stop(): Promise<void> {
    this.#push?.stop();
    this.#push = null;
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      send(res, await this.#dispatch(req));
    } catch (error) {
      const reply = errorReply(error);
      if (reply.status >= 500)
        this.#log.error(`${req.method} request failed`, { error: error instanceof Error ? error.message : "" });
      send(res, message(reply.status, reply.message, reply.headers));
    }
  }

  async #dispatch(req: IncomingMessage): Promise<Reply> {
    const raw = req.url ?? "";
    if (!raw.startsWith("/") || raw.length > 4096) throw new HttpError(400, "Malformed request URL");
    // Without a token, a DNS-rebinding page (evil.example → 127.0.0.1) would be "same origin":
    // answer only for loopback names, IP addresses and http.allowed_hosts. With a token the
    // rebound page cannot authenticate (no token; the login cookie belongs to our host name).
    if (this.#auth === null && !isAllowedHost(req, this.#options.config.allowed_hosts))
      throw new HttpError(421, "Unknown host name; add it to http.allowed_hosts or set http.auth_token");
    const url = new URL(`http://localhost${raw}`);
    const ingress = IngressPathSchema.safeParse(header(req, "x-ingress-path"));
    let path: string;
    let baseHref: string;
    if (url.pathname.startsWith(this.#basePath)) {
      path = `/${url.pathname.slice(this.#basePath.length)}`;
      baseHref = ingress.success ? withSlash(ingress.data) + this.#basePath.slice(1) : this.#basePath;
    } else if (`${url.pathname}/` === this.#basePath) {
      return redirect(`${this.#basePath}${url.search}`, 308);
    } else if (ingress.success) {
      path = url.pathname;
      baseHref = withSlash(ingress.data);
    } else {
      throw new HttpError(404, "Not found");
    }
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "");
    this.#log.debug(`${method} ${path}`); // never the query: it may hold a code
    const route = this.#routes[path];
    if (!route) throw new HttpError(404, "Not found");
    const handler = route[method as Method];
    if (!handler) {
      throw new HttpError(405, `Method (${method}) not supported on endpoint ${path}`, {
        allow: Object.keys(route).join(", "),
      });
    }
    if (method === "POST" && isCrossSite(req)) throw new HttpError(403, "Cross-site request refused");
    const authorized = this.#auth === null || this.#auth.isAuthorized(req);
    if (!authorized && !PUBLIC_PATHS.has(path)) {
      if (method === "GET" && !path.startsWith("/api/")) return redirect(`${baseHref}login`);
      throw new HttpError(401, "Authentication required", { "www-authenticate": 'Bearer realm="icloud2mqtt"' });
    }
    const secure = req.socket instanceof TLSSocket || header(req, "x-forwarded-proto") === "https";
    const ctx: RouteContext = { req, path, query: url.searchParams, baseHref, authorized, secure };
    return handler(ctx);
  }
}

/** Creates and starts the server; stop it with the returned `stop()` (same as `server.stop()`). */
export async function startHttpServer(
  options: HttpServerOptions,
): Promise<{ server: HttpServer; url: string; stop(): Promise<void> }> {
  const server = new HttpServer(options);
  const { url } = await server.start();
  return { server, url, stop: () => server.stop() };
}
