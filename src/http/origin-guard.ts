import type { IncomingMessage } from "node:http";
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
