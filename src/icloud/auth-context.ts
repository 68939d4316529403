import { EngineError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { serviceErrorCodes } from "./apple-schemas.ts";
import { CLIENT_BUILD_NUMBER, CLIENT_MASTERING_NUMBER, type Endpoints, USER_AGENT, WIDGET_KEY } from "./endpoints.ts";
import type { HttpClient, HttpMethod, HttpResponse } from "./http.ts";
import type { StoredSession } from "./session-store.ts";

/** What the sign-in steps share: HTTP client + cookie jar, hosts, the persisted session data. */
export interface AuthContext {
  http: HttpClient;
  endpoints: Endpoints;
  /** Mutable persisted data (tokens, ids). Never log it. */
  data: StoredSession;
  log: Logger;
  /** Saves `data` and the cookie jar. */
  persist(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  accept?: string;
  query?: Record<string, string>;
  idempotent?: boolean;
  signal?: AbortSignal;
}

/** Session headers captured from every idmsa answer (protocol reference 1.3). */
const CAPTURED_HEADERS = [
  ["scnt", "scnt"],
  ["x-apple-id-session-id", "session_id"],
  ["x-apple-session-token", "session_token"],
  ["x-apple-twosv-trust-token", "trust_token"],
  ["x-apple-id-account-country", "account_country"],
  ["x-apple-auth-attributes", "auth_attributes"],
] as const;

export function idmsaHeaders(ctx: AuthContext, accept = "application/json, text/javascript"): Record<string, string> {
  const { data, endpoints } = ctx;
  const headers: Record<string, string> = {
    "User-Agent": USER_AGENT,
    Accept: accept,
    "Content-Type": "application/json",
    Origin: endpoints.idmsaOrigin,
    Referer: `${endpoints.idmsaOrigin}/`,
    "X-Apple-Widget-Key": WIDGET_KEY,
    "X-Apple-OAuth-Client-Id": WIDGET_KEY,
    "X-Apple-OAuth-Client-Type": "firstPartyAuth",
    "X-Apple-OAuth-Redirect-URI": endpoints.home,
    "X-Apple-OAuth-Require-Grant-Code": "true",
    "X-Apple-OAuth-Response-Mode": "web_message",
    "X-Apple-OAuth-Response-Type": "code",
    "X-Apple-OAuth-State": data.client_id,
    "X-Apple-Frame-Id": data.client_id,
    "X-Apple-I-FD-Client-Info": JSON.stringify({ U: USER_AGENT, L: "en-US", Z: gmtOffset(), V: "1.1", F: "" }),
  };
  if (data.scnt !== undefined) headers["scnt"] = data.scnt;
  if (data.session_id !== undefined) headers["X-Apple-ID-Session-Id"] = data.session_id;
  if (data.auth_attributes !== undefined) headers["X-Apple-Auth-Attributes"] = data.auth_attributes;
  return headers;
}

/** A call to idmsa (`/appleauth/auth` + path): idmsa headers, session headers captured, persisted. */
export async function idmsaCall(
  ctx: AuthContext,
  method: HttpMethod,
  path: string,
  options: CallOptions = {},
): Promise<HttpResponse> {
  const url = new URL(ctx.endpoints.idmsa + path);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const res = await ctx.http.send({
    method,
    url: url.toString(),
    headers: idmsaHeaders(ctx, options.accept),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    idempotent: options.idempotent ?? true,
    expectJson: options.accept === undefined || options.accept.includes("json"),
  });
  for (const [header, key] of CAPTURED_HEADERS) {
    const value = res.headers[header];
    if (value !== undefined && value !== "") ctx.data[key] = value;
  }
  ctx.log.debug("idmsa answer", { path, status: res.status });
  await ctx.persist();
  return res;
}

/** Common query parameters of setup and service calls (reference 1.11), dsid once known. */
export function commonParams(data: StoredSession): Record<string, string> {
  return {
    clientBuildNumber: CLIENT_BUILD_NUMBER,
    clientMasteringNumber: CLIENT_MASTERING_NUMBER,
    clientId: data.client_id,
    ...(data.dsid === undefined ? {} : { dsid: data.dsid }),
  };
}

export function webHeaders(ctx: AuthContext, contentType = "application/json"): Record<string, string> {
  return {
    "User-Agent": USER_AGENT,
    Accept: "application/json, text/javascript, */*",
    "Content-Type": contentType,
    Origin: ctx.endpoints.home,
    Referer: `${ctx.endpoints.home}/`,
  };
}

/** A call to the setup service (`/setup/ws/1` + path) with the common params; cookies persisted. */
export async function setupCall(
  ctx: AuthContext,
  method: HttpMethod,
  path: string,
  options: CallOptions = {},
): Promise<HttpResponse> {
  const url = new URL(ctx.endpoints.setup + path);
  for (const [k, v] of Object.entries({ ...commonParams(ctx.data), ...options.query })) url.searchParams.set(k, v);
  const body = options.body !== undefined ? JSON.stringify(options.body) : method === "POST" ? "null" : undefined;
  const res = await ctx.http.send({
    method,
    url: url.toString(),
    headers: webHeaders(ctx),
    ...(body === undefined ? {} : { body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    idempotent: options.idempotent ?? true,
    expectJson: true,
  });
  ctx.log.debug("setup answer", { path, status: res.status });
  if (res.setCookie.length > 0) await ctx.persist();
  return res;
}

/** A EngineError for an unexpected idmsa/setup answer; recognises lock, rate limit, 503. */
export function unexpected(step: string, res: HttpResponse): EngineError {
  const codes = serviceErrorCodes(res.json);
  if (codes.includes("-20209"))
    return new EngineError("ACCOUNT_LOCKED", "This Apple Account has been locked for security reasons", {
      info: { status: res.status },
    });
  if (res.status === 401) {
    return new EngineError("SESSION_EXPIRED", `${step}: Apple no longer knows this sign-in; start it again`, {
      info: { status: 401 },
    });
  }
  if (res.status === 429)
    return new EngineError("RATE_LIMITED", `${step}: rate limited by Apple`, { info: { status: res.status } });
  if (res.status === 503)
    return new EngineError("SERVICE_UNAVAILABLE", `${step}: Apple service unavailable`, {
      info: { status: res.status },
    });
  return new EngineError("UNEXPECTED_RESPONSE", `${step}: unexpected answer HTTP ${res.status}`, {
    info: { status: res.status, ...(codes.length > 0 ? { apple_codes: codes } : {}) },
    retryable: res.status >= 500,
  });
}

function gmtOffset(): string {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  return `GMT${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
