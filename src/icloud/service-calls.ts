import { EngineError } from "../errors.ts";
import { type AuthContext, commonParams, webHeaders } from "./auth-context.ts";
import type { DownloadResponse, ServiceRequestOptions, ServiceResponse, WebserviceName } from "./service-transport.ts";

/** Base URL of a webservice advertised by accountLogin (trailing slash removed). */
export function webserviceUrl(ctx: AuthContext, name: WebserviceName): string | undefined {
  const url = ctx.data.webservices?.[name]?.url;
  return url === undefined ? undefined : url.replace(/\/+$/, "");
}

/** One service call, no re-authentication (the session adds that). */
export async function serviceCall(
  ctx: AuthContext,
  service: WebserviceName,
  path: string,
  options: ServiceRequestOptions,
): Promise<ServiceResponse> {
  const base = webserviceUrl(ctx, service);
  if (base === undefined) {
    throw new EngineError("SERVICE_NOT_AVAILABLE", `the account does not offer the ${service} service`, {
      info: { service },
    });
  }
  const url = new URL(base + (path.startsWith("/") ? path : `/${path}`));
  for (const [k, v] of Object.entries({ ...commonParams(ctx.data), ...options.query })) url.searchParams.set(k, v);
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  const res = await ctx.http.send({
    method,
    url: url.toString(),
    headers: webHeaders(ctx, options.contentType ?? "application/json"),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    idempotent: options.idempotent ?? true,
    expectJson: true,
  });
  ctx.log.debug("service answer", { service, path: url.pathname, status: res.status });
  if (res.setCookie.length > 0) await ctx.persist();
  return { status: res.status, headers: res.headers, json: res.json };
}

/** GET of an absolute URL with the session's cookies; the body is streamed. */
export async function downloadUrl(
  ctx: AuthContext,
  url: string,
  options: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<DownloadResponse> {
  const { "Content-Type": _json, ...base } = webHeaders(ctx);
  const headers = { ...base, Accept: "*/*", ...options.headers };
  const res = await ctx.http.stream({
    method: "GET",
    url,
    headers,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { status: res.status, headers: res.headers, body: res.body };
}
