/**
 * What pyicloud and icloudpd get from Python's `requests.Session` and `http.cookiejar`, the parts
 * that decide what goes on the wire:
 * - session headers (requests' defaults, then the client's) merged under per-request headers;
 * - `params` appended URL-encoded (Python `True` becomes `True`), `json=` sets
 *   `Content-Type: application/json` unless given, `data=` a string body with no content type;
 * - cookies from `http.cookiejar`: a cookie that arrives already expired (Apple's
 *   `X-APPLE-WEBAUTH-HSA-LOGIN`, Unix time 1) deletes the stored one and is never stored;
 *   host-only cookies go back to the same host only, Domain cookies to the domain and below;
 * - `Session.send(Request(...).prepare())` (icloudpd's hand-built MFA calls) sends only the
 *   request's own headers and no cookies, but still files the answer's cookies into the jar.
 */
import type { Wire, WireResponse } from "./wire.ts";

interface PyCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  expires?: number;
}

export class PyCookieJar {
  cookies: PyCookie[] = [];

  extract(url: string, lines: readonly string[], now = Date.now()): void {
    const host = new URL(url).hostname;
    for (const line of lines) {
      const [pair = "", ...attrs] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const cookie: PyCookie = {
        name: pair.slice(0, eq),
        value: pair.slice(eq + 1),
        domain: host,
        hostOnly: true,
        path: "/",
      };
      for (const attr of attrs) {
        const [key = "", ...rest] = attr.split("=");
        const value = rest.join("=");
        const name = key.toLowerCase();
        if (name === "domain" && value) {
          cookie.domain = value.startsWith(".") ? value : `.${value}`;
          cookie.hostOnly = false;
        } else if (name === "path" && value) cookie.path = value;
        else if (name === "expires") cookie.expires = Date.parse(value);
        else if (name === "max-age") cookie.expires = now + Number(value) * 1000;
      }
      const same = (c: PyCookie) => c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path;
      this.cookies = this.cookies.filter((c) => !same(c));
      // http.cookiejar: "Expiry date in past is request to delete cookie".
      if (cookie.expires !== undefined && cookie.expires <= now) continue;
      this.cookies.push(cookie);
    }
  }

  header(url: string, now = Date.now()): string | undefined {
    const { hostname, pathname } = new URL(url);
    const matching = this.cookies
      .filter((c) => (c.hostOnly ? c.domain === hostname : `.${hostname}`.endsWith(c.domain)))
      .filter((c) => pathname.startsWith(c.path))
      .filter((c) => c.expires === undefined || c.expires > now)
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join("; ") : undefined;
  }

  get(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }
}

export type PyParams = Record<string, string | number | boolean>;

export interface PyRequestOptions {
  params?: PyParams;
  headers?: Record<string, string>;
  json?: unknown;
  data?: string;
}

const pyValue = (value: string | number | boolean): string =>
  typeof value === "boolean" ? (value ? "True" : "False") : String(value);

export function withParams(url: string, params?: PyParams): string {
  if (!params || Object.keys(params).length === 0) return url;
  const query = new URLSearchParams(
    Object.entries(params).map(([key, value]): [string, string] => [key, pyValue(value)]),
  );
  return `${url}${url.includes("?") ? "&" : "?"}${query.toString()}`;
}

/** Python's json.dumps: `", "` and `": "` separators. */
export function pyJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/("(?:[^"\\]|\\.)*")|,/g, (_match, str: string | undefined) => str ?? ", ")
    .replace(/("(?:[^"\\]|\\.)*")|:/g, (_match, str: string | undefined) => str ?? ": ");
}

export class RequestsSession {
  readonly wire: Wire;
  readonly jar = new PyCookieJar();
  /** requests' default session headers; clients update them. */
  readonly headers: Record<string, string> = {
    "User-Agent": "python-requests/2.32.3",
    "Accept-Encoding": "gzip, deflate",
    Accept: "*/*",
    Connection: "keep-alive",
  };

  constructor(wire: Wire) {
    this.wire = wire;
  }

  /** `session.request(method, url, params=…, headers=…, json=…/data=…)`. */
  async request(method: string, url: string, options: PyRequestOptions = {}): Promise<WireResponse> {
    const full = withParams(url, options.params);
    const merged = new Map<string, [string, string]>();
    for (const [name, value] of [...Object.entries(this.headers), ...Object.entries(options.headers ?? {})]) {
      merged.set(name.toLowerCase(), [name, value]);
    }
    let body: string | undefined;
    if (options.json !== undefined) {
      body = pyJson(options.json);
      if (!merged.has("content-type")) merged.set("content-type", ["Content-Type", "application/json"]);
    } else if (options.data !== undefined) body = options.data;
    const cookie = this.jar.header(full);
    if (cookie) merged.set("cookie", ["Cookie", cookie]);
    const res = await this.wire.send({
      method,
      url: full,
      headers: [...merged.values()],
      ...(body === undefined ? {} : { body }),
    });
    this.jar.extract(full, res.setCookie);
    return res;
  }

  /** `session.send(Request(method, url, headers=…, json=…).prepare())`: no session headers, no cookies. */
  async sendPrepared(
    method: string,
    url: string,
    headers: Record<string, string>,
    json?: unknown,
  ): Promise<WireResponse> {
    const list: [string, string][] = Object.entries(headers);
    let body: string | undefined;
    if (json !== undefined) {
      body = pyJson(json);
      if (!list.some(([name]) => name.toLowerCase() === "content-type"))
        list.push(["Content-Type", "application/json"]);
    }
    const res = await this.wire.send({ method, url, headers: list, ...(body === undefined ? {} : { body }) });
    this.jar.extract(url, res.setCookie);
    return res;
  }
}
