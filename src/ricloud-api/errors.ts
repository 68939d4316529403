import type { z } from "zod";
import { EngineError } from "../errors.ts";
import { errorReply, HttpError } from "../http/http-errors.ts";

/**
 * An API error as ricloud answers it: an HTTP status and `{error, message, params}`. ricloud-py
 * JSON-decodes every 4xx body into `RequestError`, so every error here has a JSON body.
 */
export class RicloudError extends Error {
  override readonly name = "RicloudError";
  readonly status: number;
  readonly error: string;
  readonly params: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    error: string,
    message: string,
    params: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.error = error;
    this.params = params;
    this.headers = headers;
  }

  toJSON(): { error: string; message: string; params: Record<string, string> } {
    return { error: this.error, message: this.message, params: this.params };
  }
}

export function invalidParameter(param: string, message: string): RicloudError {
  return new RicloudError(400, "invalid-parameter", `${param}: ${message}`, { [param]: message });
}

export function notFound(resource: string, id: string): RicloudError {
  return new RicloudError(404, "not-found", `no ${resource} with id ${JSON.stringify(id.slice(0, 80))}`);
}

/** Zod issues as `invalid-parameter` with one entry per path (`source.user`, `payload.code`). */
export function fromZod(error: z.ZodError, prefix = ""): RicloudError {
  const params: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".") || "body";
    params[path] ??= issue.message;
  }
  const text = Object.entries(params)
    .map(([path, message]) => `${path}: ${message}`)
    .join("; ");
  return new RicloudError(400, "invalid-parameter", text, params);
}

/**
 * The one place errors become API answers. RicloudErrors keep their status; HttpErrors from the
 * shared helpers (body too large, unreadable body) and EngineErrors keep the HTTP server's status
 * mapping, with the engine's session error name (`service-unavailable`, …) as `error`; anything
 * else is a 500 without details.
 */
export function toRicloudError(error: unknown): RicloudError {
  if (error instanceof RicloudError) return error;
  if (error instanceof HttpError) {
    const code = error.status === 413 ? "invalid-body" : error.status === 400 ? "invalid-body" : "request-failed";
    return new RicloudError(error.status, code, error.message, {}, error.headers);
  }
  if (error instanceof EngineError) {
    const reply = errorReply(error);
    return new RicloudError(reply.status, error.sessionError, reply.message, {}, reply.headers);
  }
  return new RicloudError(500, "server-error", "Internal server error");
}
