import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { AccountState } from "../engine/account-state.ts";
import type { EngineApi } from "../engine/api.ts";
import type { Logger } from "../logger.ts";
import type { TokenAuth } from "./auth.ts";
import { HttpError } from "./http-errors.ts";
import type { PushNotifier } from "./push-notifier.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Reply } from "./respond.ts";
import type { StaticUi } from "./static-ui.ts";
import type { VendorFiles } from "./vendor.ts";

/** One request as routes see it, after the base path was stripped and auth was checked. */
export interface RouteContext {
  req: IncomingMessage;
  /** The path below the base path, always starting with "/". */
  path: string;
  query: URLSearchParams;
  /** The base URL path the browser sees (base_path or X-Ingress-Path), ending with "/". */
  baseHref: string;
  /** True when the request carried valid credentials or none are required. */
  authorized: boolean;
  /** True when the browser reached us over HTTPS (directly or via a proxy). */
  secure: boolean;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;
export type Method = "GET" | "POST";
export type Routes = Record<string, Partial<Record<Method, Handler>>>;

/** What route groups share. */
export interface Services {
  api: EngineApi;
  logger: Logger;
  mfaLimiter: RateLimiter;
  loginLimiter: RateLimiter;
  auth: TokenAuth | null;
  push: PushNotifier | null;
  ui: StaticUi;
  /** Leaflet and the like, served under `vendor/`. */
  vendor: VendorFiles;
  /** The dashboard's map (`http.map`), null when it is off or Leaflet is not installed. */
  map: { tiles: string; attribution: string } | null;
}

const AccountParamSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.@-]+$/);

/** The account named by `?account=`, or the first configured one; 404 when unknown. */
export function resolveAccount(api: EngineApi, query: URLSearchParams): string {
  const ids = api.accounts().map((a) => a.id);
  const raw = query.get("account");
  if (raw === null || raw === "") {
    const first = ids[0];
    if (first === undefined) throw new HttpError(404, "No account is configured");
    return first;
  }
  const parsed = AccountParamSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(404, "Unknown account");
  if (!ids.includes(parsed.data)) throw new HttpError(404, `Unknown account '${parsed.data}'`);
  return parsed.data;
}

/** What a blocked account waits for: a code, a choice of device, or nothing. */
export function awaiting(state: AccountState): "code" | "choice" | null {
  if (state.state !== "blocked") return null;
  return state.session.error === "choice-required" ? "choice" : "code";
}
