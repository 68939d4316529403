import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";

/** One request as a simulator route sees it (body already read). */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Cookies sent by the client, by name (values as sent, quotes kept). */
  cookies: Map<string, string>;
  /** Named groups of the route's path pattern. */
  params: Record<string, string>;
}

/** What a route answers. `json` is serialised with `application/json;charset=UTF-8`. */
export interface SimResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  json?: unknown;
  text?: string;
  /** Raw body; content-type must be set in headers. */
  body?: Buffer | string;
  /** Streamed body (downloads). */
  stream?: Readable;
}

export interface Route {
  /** Stable id used for fault injection, e.g. `idmsa.signin.init`, `setup.validate`, `fmip.refreshClient`. */
  id: string;
  method: string | readonly string[];
  /** Exact path, or a RegExp with named groups matched against the whole pathname. */
  path: string | RegExp;
  handle(req: SimRequest): SimResponse | Promise<SimResponse>;
}

export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const methods = typeof route.method === "string" ? [route.method] : route.method;
    if (!methods.includes(method)) continue;
    if (typeof route.path === "string") {
      if (route.path === pathname) return { route, params: {} };
      continue;
    }
    const match = route.path.exec(pathname);
    if (match && match[0] === pathname) return { route, params: { ...(match.groups ?? {}) } };
  }
  return undefined;
}

export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}
