import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { EngineError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { AppleCookieJar } from "./cookie-jar.ts";
import { Agent, request } from "./undici-core.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /**
   * Whether the request may be sent again after a connection error or a malformed answer (the
   * server may have processed it). 429/503 answers are always retried: Apple refused them.
   * Defaults to true.
   */
  idempotent?: boolean;
  /** A 2xx answer must be JSON (or empty): malformed JSON is an UNEXPECTED_RESPONSE. */
  expectJson?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", " (Set-Cookie is in `setCookie`). */
  headers: Record<string, string>;
  setCookie: string[];
  text: string;
  /** Parsed JSON body when the body is JSON; undefined when empty or not JSON. */
  json: unknown;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

export interface BackoffOptions {
  /** First delay; doubled on each try, with ±50% jitter. Default 1000 ms. */
  baseMs?: number;
  /** Cap of the exponential delay. Default 30 s. */
  maxMs?: number;
  /** Total attempts including the first. Default 4. */
  tries?: number;
  /** Longest Retry-After honoured by waiting; a longer one fails at once. Default 120 s. */
  retryAfterCapMs?: number;
}

export interface HttpClientOptions {
  /**
   * undici dispatcher (Agent/Pool with a custom CA for TLS tests, a proxy, ...), owned by the
   * caller. Without one the client keeps its own connection pool, which `close()` ends.
   */
  dispatcher?: Dispatcher;
  backoff?: BackoffOptions;
  /** Injectable sleep (tests pass one that records delays and resolves at once). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  logger?: Logger;
  /** Headers and body timeout per attempt. Default 60 s. */
  timeoutMs?: number;
}

const RETRYABLE_CONNECTION_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

/** What a client and the clients forked from it share: the connection pool and the end of everything in flight. */
interface Lifetime {
  /** The own pool (keep-alive sockets), made on first use when no dispatcher was given. */
  agent: Agent | undefined;
  /** Aborted by `close()`; replaced, so a later request starts afresh. */
  abort: AbortController;
}

/** The error requests in flight end with when their client is closed. */
export function closedError(): EngineError {
  return new EngineError("NOT_SIGNED_IN", "the iCloud session was closed", { info: { closed: true } });
}

/**
 * An undici + tough-cookie HTTP client with Apple's retry policy (429/503/connection errors). It
 * keeps its own connection pool (not undici's process-wide one), so `close()` leaves no socket
 * behind that would keep the process alive.
 */
export class HttpClient {
  jar: AppleCookieJar = new AppleCookieJar();
  readonly #options: HttpClientOptions;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #lifetime: Lifetime;
  readonly #backoff: Required<BackoffOptions>;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #timeoutMs: number;

  constructor(options: HttpClientOptions = {}, lifetime?: Lifetime) {
    this.#options = options;
    this.#dispatcher = options.dispatcher;
    this.#lifetime = lifetime ?? { agent: undefined, abort: new AbortController() };
    this.#backoff = {
      baseMs: options.backoff?.baseMs ?? 1000,
      maxMs: options.backoff?.maxMs ?? 30_000,
      tries: Math.max(1, options.backoff?.tries ?? 4),
      retryAfterCapMs: options.backoff?.retryAfterCapMs ?? 120_000,
    };
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#log = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** A client with its own cookie jar on this one's connection pool, ended by this one's `close()`. */
  fork(): HttpClient {
    return new HttpClient(this.#options, this.#lifetime);
  }

  /**
   * Ends the requests and back-off waits in flight (they reject with NOT_SIGNED_IN) and closes the
   * own pool's connections. A later request opens new ones.
   */
  async close(): Promise<void> {
    const lifetime = this.#lifetime;
    const agent = lifetime.agent;
    const abort = lifetime.abort;
    lifetime.agent = undefined;
    lifetime.abort = new AbortController();
    abort.abort(closedError());
    await agent?.destroy().catch(() => undefined);
  }

  /** Sends a request and reads the whole body, retrying transient failures with backoff. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const scope = this.#scope(request.signal);
    try {
      return await this.#send({ ...request, signal: scope.signal });
    } finally {
      scope.done();
    }
  }

  async #send(req: HttpRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent ?? true;
    let last: EngineError | undefined;
    for (let attempt = 1; attempt <= this.#backoff.tries; attempt++) {
      let delay = this.#delay(attempt);
      try {
        const res = await this.#once(req);
        if (res.status === 429 || res.status === 503) {
          const retryAfter = parseRetryAfter(res.headers["retry-after"]);
          last = transientStatusError(res.status, retryAfter);
          if (retryAfter !== undefined) {
            if (retryAfter * 1000 > this.#backoff.retryAfterCapMs) throw last;
            delay = Math.max(delay, retryAfter * 1000);
          }
          this.#log.debug("transient answer, backing off", { status: res.status, url: pathOf(req.url), attempt });
        } else if (req.expectJson === true && isMalformedJson(res)) {
          last = new EngineError("UNEXPECTED_RESPONSE", `malformed JSON from ${pathOf(req.url)} (HTTP ${res.status})`, {
            info: { status: res.status },
          });
          if (!idempotent) throw last;
          this.#log.debug("malformed answer, retrying", { url: pathOf(req.url), attempt });
        } else {
          return res;
        }
      } catch (error) {
        if (error instanceof EngineError) throw error;
        if (req.signal?.aborted === true) throw error;
        const code = errorCode(error);
        if (code === undefined || !RETRYABLE_CONNECTION_CODES.has(code)) throw networkError(req.url, error);
        last = networkError(req.url, error);
        if (!idempotent && code !== "ECONNREFUSED") throw last;
        this.#log.debug("connection error, retrying", { code, url: pathOf(req.url), attempt });
      }
      if (attempt < this.#backoff.tries) await this.#sleep(delay, req.signal);
    }
    throw last ?? new EngineError("SERVICE_UNAVAILABLE", "request failed");
  }

  /** GET with cookies whose body is streamed to the caller; retries 429/503 before streaming. */
  async stream(request: HttpRequest): Promise<StreamResponse> {
    const scope = this.#scope(request.signal);
    try {
      const res = await this.#stream({ ...request, signal: scope.signal });
      // The caller's signal and `close()` end the body too, until it is read or dropped.
      res.body.once("close", scope.done);
      return res;
    } catch (error) {
      scope.done();
      throw error;
    }
  }

  async #stream(req: HttpRequest): Promise<StreamResponse> {
    for (let attempt = 1; ; attempt++) {
      // The timeout bounds the wait for the headers only: a large body may take long.
      const timer = this.#timer(req.signal);
      const res = await this.#dispatch({ ...req, signal: timer.signal })
        .catch((error: unknown) => {
          throw req.signal?.aborted === true ? error : networkError(req.url, timer.explain(error));
        })
        .finally(() => timer.clear());
      const headers = flattenHeaders(res.headers);
      await this.#storeCookies(res.headers["set-cookie"], req.url);
      if ((res.statusCode === 429 || res.statusCode === 503) && attempt < this.#backoff.tries) {
        res.body.resume();
        const retryAfter = parseRetryAfter(headers["retry-after"]);
        await this.#sleep(
          Math.max(this.#delay(attempt), Math.min((retryAfter ?? 0) * 1000, this.#backoff.retryAfterCapMs)),
          req.signal,
        );
        continue;
      }
      return { status: res.statusCode, headers, body: res.body };
    }
  }

  async #once(req: HttpRequest): Promise<HttpResponse> {
    const timer = this.#timer(req.signal);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.#dispatch({ ...req, signal: timer.signal });
      text = await res.body.text();
    } catch (error) {
      throw timer.explain(error);
    } finally {
      timer.clear();
    }
    const headers = flattenHeaders(res.headers);
    const setCookie = toArray(res.headers["set-cookie"]);
    await this.#storeCookies(setCookie, req.url);
    return { status: res.statusCode, headers, setCookie, text, json: parseJsonBody(text, headers["content-type"]) };
  }

  async #dispatch(req: HttpRequest): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...req.headers };
    const cookie = await this.jar.cookieHeader(req.url);
    if (cookie !== "") headers["cookie"] = cookie;
    return request(req.url, {
      method: req.method,
      headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      ...(req.signal === undefined ? {} : { signal: req.signal }),
      dispatcher: this.#pool(),
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
  }

  /** A signal for one call: the caller's, also ended by `close()`; `done()` unlinks it. */
  #scope(outer: AbortSignal | undefined): { signal: AbortSignal; done(): void } {
    const controller = new AbortController();
    const sources = [this.#lifetime.abort.signal, ...(outer === undefined ? [] : [outer])];
    const forward = (source: AbortSignal) => () => controller.abort(source.reason);
    const links = sources.map((source) => ({ source, listener: forward(source) }));
    for (const { source, listener } of links) {
      if (source.aborted) listener();
      else source.addEventListener("abort", listener, { once: true });
    }
    return {
      signal: controller.signal,
      done: () => {
        for (const { source, listener } of links) source.removeEventListener("abort", listener);
      },
    };
  }

  #pool(): Dispatcher {
    if (this.#dispatcher !== undefined) return this.#dispatcher;
    this.#lifetime.agent ??= new Agent();
    return this.#lifetime.agent;
  }

  async #storeCookies(raw: string | string[] | undefined, url: string): Promise<void> {
    for (const value of toArray(raw)) await this.jar.store(value, url);
  }

  /**
   * The attempt's timeout (`timeoutMs`, on an exact timer: undici's own timers have a resolution
   * of a second) joined with the caller's signal; `explain` turns its abort into ETIMEDOUT.
   */
  #timer(outer: AbortSignal | undefined): {
    signal: AbortSignal;
    clear(): void;
    explain(error: unknown): unknown;
  } {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    return {
      signal: outer === undefined ? controller.signal : AbortSignal.any([outer, controller.signal]),
      clear: () => clearTimeout(timer),
      explain: (error) =>
        controller.signal.aborted && outer?.aborted !== true
          ? Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: "ETIMEDOUT", cause: error })
          : error,
    };
  }

  #delay(attempt: number): number {
    const exp = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** (attempt - 1));
    return Math.round(exp * (0.5 + this.#random()));
  }
}

function transientStatusError(status: number, retryAfter: number | undefined): EngineError {
  if (status === 429) {
    return new EngineError("RATE_LIMITED", "Apple is rate limiting requests (HTTP 429)", {
      info: { status, ...(retryAfter === undefined ? {} : { retry_after: retryAfter }) },
    });
  }
  return new EngineError("SERVICE_UNAVAILABLE", "Apple answered 503 Service Temporarily Unavailable", {
    info: { status, ...(retryAfter === undefined ? {} : { retry_after: retryAfter }) },
  });
}

function networkError(url: string, error: unknown): EngineError {
  const code = errorCode(error);
  return new EngineError("NETWORK", `connection to ${new URL(url).host} failed${code ? ` (${code})` : ""}`, {
    cause: error,
  });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}

export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function parseJsonBody(text: string, contentType: string | undefined): unknown {
  if (text.trim() === "") return undefined;
  const looksJson = contentType?.includes("json") === true || /^\s*[[{"]/.test(text) || text.trim() === "null";
  if (!looksJson) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isMalformedJson(res: HttpResponse): boolean {
  if (res.status < 200 || res.status >= 300) return false;
  // Parsed already (`parseJsonBody`): no second parse of a large page.
  if (res.json !== undefined || res.text.trim() === "") return false;
  try {
    JSON.parse(res.text);
    return false;
  } catch {
    return true;
  }
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || name.toLowerCase() === "set-cookie") continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function toArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
