import type { z } from "zod";
import type { Logger } from "../logger.ts";
import type { WebserviceProvider } from "./context.ts";
import type { SimRequest, SimResponse } from "./router.ts";
import type { Scenario } from "./scenario.ts";
import type { SimAccount } from "./sim-accounts.ts";
import type { World } from "./world.ts";

/** What the core route modules (idmsa, setup, admin) share. */
export interface CoreEnv {
  world: World;
  scenario: Scenario;
  log: Logger;
  tls: boolean;
  origin(): string;
  /** What service modules add to `webservices` (see `SimServiceContext.advertise`). */
  webservices: WebserviceProvider[];
}

/**
 * Whether the opt-in strict variant applies (scenario `strict`, overridden per account). Before an
 * auth context is tied to an account only the scenario's switch counts.
 */
export function isStrict(env: CoreEnv, account?: SimAccount): boolean {
  return account?.config.strict ?? env.scenario.strict;
}

export const JSON_TYPE = "application/json;charset=UTF-8";

/** Parses the JSON body with a zod schema; undefined when it is not JSON or does not fit. */
export function parseBody<T extends z.ZodType>(req: SimRequest, schema: T): z.output<T> | undefined {
  let data: unknown;
  try {
    data = JSON.parse(req.body.toString("utf8") || "null");
  } catch {
    return undefined;
  }
  const result = schema.safeParse(data);
  return result.success ? result.data : undefined;
}

export function header(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** A Set-Cookie line without Domain (the simulator is one origin); Secure/HttpOnly only under TLS. */
export function cookieLine(
  env: CoreEnv,
  name: string,
  value: string,
  options: { expires?: number; httpOnly?: boolean } = {},
): string {
  const parts = [`${name}=${value}`, "Path=/"];
  if (options.expires !== undefined) parts.push(`Expires=${new Date(options.expires).toUTCString()}`);
  if (env.tls) {
    parts.push("Secure");
    if (options.httpOnly !== false) parts.push("HttpOnly");
  }
  return parts.join("; ");
}

export function jsonResponse(
  status: number,
  json: unknown,
  headers: Record<string, string | string[]> = {},
): SimResponse {
  return { status, json, headers };
}
