import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Logger } from "../logger.ts";
import { ADMIN_PREFIX, type RequestRecord } from "./admin-routes.ts";
import { JSON_TYPE } from "./core-env.ts";
import { type ActiveFault, applyFault, type FaultStore, shortened } from "./faults.ts";
import { matchRoute, parseCookieHeader, type Route, type SimRequest, type SimResponse } from "./router.ts";

const MAX_BODY = 16 * 1024 * 1024;
const MAX_RECORDS = 2000;

export interface Dispatcher {
  admin: Route[];
  routes: Route[];
  faults: FaultStore;
  records: RequestRecord[];
  log: Logger;
  origin(): string;
  now(): number;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY) throw new Error("request body too large");
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function record(d: Dispatcher, entry: Omit<RequestRecord, "at" | "seq">): void {
  d.records.push({ seq: (d.records.at(-1)?.seq ?? 0) + 1, at: new Date(d.now()).toISOString(), ...entry });
  if (d.records.length > MAX_RECORDS) d.records.splice(0, d.records.length - MAX_RECORDS);
}

async function writeResponse(res: ServerResponse, answer: SimResponse): Promise<void> {
  const headers: Record<string, string | string[]> = { ...(answer.headers ?? {}) };
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  let body: Buffer | undefined;
  if (answer.json !== undefined) {
    body = Buffer.from(JSON.stringify(answer.json));
    if (!hasType) headers["Content-Type"] = JSON_TYPE;
  } else if (answer.text !== undefined) {
    body = Buffer.from(answer.text);
    if (!hasType) headers["Content-Type"] = "text/plain;charset=UTF-8";
  } else if (answer.body !== undefined) {
    body = Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body);
  }
  if (answer.stream) {
    res.writeHead(answer.status, headers);
    await pipeline(answer.stream, res);
    return;
  }
  if (answer.status !== 204 && answer.status !== 304) headers["Content-Length"] = String(body?.length ?? 0);
  res.writeHead(answer.status, headers);
  res.end(answer.status === 204 ? undefined : body);
}

/** Handles one HTTP request: admin API, fault injection, Apple routes, 404 for the rest. */
export async function dispatch(d: Dispatcher, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", d.origin());
  const isAdmin = url.pathname.startsWith(ADMIN_PREFIX);
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    res.writeHead(413).end();
    return;
  }
  // Under /__sim/ the core's admin routes come first, then control routes that service modules add
  // (e.g. /__sim/photos/add); neither is an Apple path, so no fault injection applies to them.
  const match = isAdmin
    ? (matchRoute(d.admin, method, url.pathname) ?? matchRoute(d.routes, method, url.pathname))
    : matchRoute(d.routes, method, url.pathname);
  if (!match) {
    if (!isAdmin) record(d, { method, path: url.pathname, route: null, status: 404 });
    await writeResponse(res, {
      status: 404,
      headers: { "Content-Type": "text/html;charset=UTF-8" },
      body: "<html><body><h1>404 Not Found</h1></body></html>",
    });
    return;
  }
  const { route, params } = match;
  let fault: ActiveFault | undefined;
  if (!isAdmin) {
    fault = d.faults.take(route.id);
    if (fault) {
      const outcome = await applyFault(fault, res);
      if (outcome !== "continue") {
        record(d, { method, path: url.pathname, route: route.id, status: outcome });
        return;
      }
    }
  }
  const simReq: SimRequest = {
    method,
    url,
    headers: req.headers,
    body,
    cookies: parseCookieHeader(req.headers.cookie),
    params,
  };
  let answer: SimResponse;
  try {
    answer = await route.handle(simReq);
  } catch (error) {
    d.log.error("simulator route failed", {
      route: route.id,
      error: error instanceof Error ? error.message : String(error),
    });
    answer = { status: 500, text: "Internal Server Error" };
  }
  if (fault?.kind === "short_body") answer = await shortened(answer, fault.bytes);
  if (!isAdmin) record(d, { method, path: url.pathname, route: route.id, status: answer.status });
  await writeResponse(res, answer);
}
