import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./http-errors.ts";

/** What a route returns; the server writes it with the security headers. */
export interface Reply {
  status: number;
  /** Serialised as JSON when present. */
  json?: unknown;
  /** A raw body (HTML, JS, CSS, images) with its content type. */
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
}

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * No inline scripts or styles; `frame-ancestors 'self'` lets Home Assistant's ingress (same
 * origin as the HA front-end) frame the UI while other sites cannot. `imageOrigins` adds origins
 * images may come from (the dashboard's map tiles, on the dashboard page only).
 */
export function contentSecurityPolicy(imageOrigins: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data:", ...imageOrigins].join(" "),
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join("; ");
}

const CSP = contentSecurityPolicy();

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "SAMEORIGIN",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
};

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, json: value, headers };
}

export function message(status: number, text: string, headers: Record<string, string> = {}): Reply {
  return { status, json: { message: text }, headers };
}

export function redirect(location: string, status = 303): Reply {
  return { status, body: "", type: "text/plain; charset=utf-8", headers: { location } };
}

export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const isJson = reply.json !== undefined;
  const body = isJson ? JSON.stringify(reply.json) : (reply.body ?? "");
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "cache-control": "no-store",
    "content-type": isJson ? "application/json; charset=utf-8" : (reply.type ?? "text/plain; charset=utf-8"),
    "content-length": String(Buffer.byteLength(body)),
    ...reply.headers,
  };
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** Reads a request body up to `limit` bytes; larger bodies are refused with 413. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, "Request body too large", { connection: "close" }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, "Request body too large", { connection: "close" }));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      if (failed) return;
      failed = true;
      reject(new HttpError(400, `Unable to read the request body: ${error.message}`));
    });
  });
}
