import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { z } from "zod";

const FetchSiteSchema = z.enum(["same-origin", "same-site", "cross-site", "none"]);
const HostSchema = z
  .string()
  .max(300)
  .regex(/^[A-Za-z0-9.\-:[\]]+$/);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True when a state-changing request may come from a browser page on another site.
 * Browsers label requests with `Sec-Fetch-Site` (secure contexts) and `Origin` (all POSTs);
 * requests without either come from scripts, curl or Home Assistant and are allowed.
 * Same-origin means: Origin's host equals Host, or X-Forwarded-Host set by a reverse proxy
 * (Home Assistant ingress).
 */
export function isCrossSite(req: IncomingMessage): boolean {
  const fetchSite = FetchSiteSchema.safeParse(header(req, "sec-fetch-site"));
  if (fetchSite.success && (fetchSite.data === "cross-site" || fetchSite.data === "same-site")) return true;
  const origin = header(req, "origin");
  if (origin === undefined) return false;
  if (fetchSite.success && fetchSite.data === "same-origin") return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return true; // "null" or garbage: an opaque origin is never ours
  }
  const hosts = [header(req, "host"), ...(header(req, "x-forwarded-host") ?? "").split(",")]
    .map((h) => HostSchema.safeParse(h?.trim()))
    .filter((h) => h.success)
    .map((h) => h.data.toLowerCase());
  return !hosts.includes(originHost);
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** `name`, `name:port`, `[v6]` or `[v6]:port`; the name is matched case-insensitively. */
const HostHeaderSchema = z
  .string()
  .max(300)
  .regex(/^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/);

/**
 * DNS-rebinding guard for a server no token protects: true when the `Host` header names this
 * machine (localhost, 127.0.0.1, [::1]), an IP address, or a name in `allowed` (any port).
 * A rebinding page reaches us under its own DNS name (`evil.example`), which it cannot change;
 * IP literals involve no DNS, so a page under one is genuinely that address. Requests without
 * `Host` (HTTP/1.0) do not come from browsers. `X-Forwarded-Host` and `X-Ingress-Path` are not
 * consulted: a rebound same-origin page could set them.
 */
export function isAllowedHost(req: IncomingMessage, allowed: readonly string[]): boolean {
  const raw = header(req, "host");
  if (raw === undefined || raw === "") return true;
  const parsed = HostHeaderSchema.safeParse(raw.trim());
  if (!parsed.success) return false;
  const value = parsed.data.toLowerCase();
  const name = value.startsWith("[") ? value.slice(0, value.indexOf("]") + 1) : (value.split(":")[0] ?? "");
  const bare = name.endsWith(".") ? name.slice(0, -1) : name;
  if (LOOPBACK_NAMES.has(bare)) return true;
  if (isIP(bare) === 4 || (bare.startsWith("[") && isIP(bare.slice(1, -1)) === 6)) return true;
  return allowed.some((host) => host.toLowerCase() === bare);
}
