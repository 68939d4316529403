import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { z } from "zod";
import { fromZod, notFound, RicloudError } from "./errors.ts";
import type { KeyRecord } from "./key-store.ts";

export type Method = "GET" | "POST" | "DELETE";

/** One authenticated request as handlers see it. */
export interface RequestContext {
  req: IncomingMessage;
  key: KeyRecord;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body (an object; `{}` when there is none). */
  body: Record<string, unknown>;
  /** `Ricloud-Await` in milliseconds (0 to 10 000). */
  awaitMs: number;
  /** The path, for list envelopes' `url`. */
  path: string;
}

export interface Reply {
  status: number;
  json?: unknown;
  stream?: { body: Readable; type: string; length?: number };
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  method: Method;
  /** `/sessions/:id`, `/results/:id/ack`, … */
  pattern: string;
  handler: Handler;
}

const SEGMENT = /^[A-Za-z0-9_.:-]{1,100}$/;

export function route(method: Method, pattern: string, handler: Handler): Route {
  return { method, pattern, handler };
}

export const ok = (json: unknown): Reply => ({ status: 200, json });
export const created = (json: unknown): Reply => ({ status: 201, json });

/** Finds the route for a path; 404 when none matches, 405 (with Allow) when only the method does not. */
export function match(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } {
  const parts = path.split("/").slice(1);
  const allowed: string[] = [];
  for (const candidate of routes) {
    const pattern = candidate.pattern.split("/").slice(1);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const fits = pattern.every((segment, i) => {
      const part = parts[i] ?? "";
      if (segment.startsWith(":")) {
        if (!SEGMENT.test(part)) return false;
        params[segment.slice(1)] = part;
        return true;
      }
      return segment === part;
    });
    if (!fits) continue;
    if (candidate.method === method) return { route: candidate, params };
    allowed.push(candidate.method);
  }
  if (allowed.length > 0)
    throw new RicloudError(
      405,
      "method-not-allowed",
      `${method} is not supported on ${path}`,
      {},
      {
        allow: [...new Set(allowed)].join(", "),
      },
    );
  throw new RicloudError(404, "not-found", `no such endpoint: ${path}`);
}

/** The body parsed with `schema`; `invalid-parameter` naming each bad field. */
export function parseBody<S extends z.ZodType>(ctx: RequestContext, schema: S): z.output<S> {
  const parsed = schema.safeParse(ctx.body);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/** An item of a list by id, or 404 naming the resource. */
export function byId<T extends { id: string }>(items: readonly T[], id: string | undefined, resource: string): T {
  const found = id === undefined ? undefined : items.find((item) => item.id === id);
  if (found === undefined) throw notFound(resource, id ?? "");
  return found;
}

/** Items whose fields equal the query's values for `fields` (ricloud's list filters). */
export function filtered<T extends object>(
  items: readonly T[],
  query: URLSearchParams,
  fields: readonly string[],
): T[] {
  const wanted = fields.flatMap((field) => {
    const value = query.get(field);
    return value === null ? [] : [[field, value] as const];
  });
  return items.filter((item) =>
    wanted.every(([field, value]) => String((item as Record<string, unknown>)[field] ?? "") === value),
  );
}
