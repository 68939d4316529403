/**
 * `GET /B/<token>/<file>`: the cvws.icloud-content.com stand-in. The file segment may be the
 * literal `${f}`, its percent-encoded form `$%7Bf%7D` (Python requests, icloudpd cassettes), or any
 * filename. Signed URLs need no cookies and no headers: icloud-photos-sync
 * `app/src/lib/resources/network-manager.ts` `downloadData` fetches them with a bare stream client.
 * Expired `e` → 410 Gone (what clients see from Apple, e.g. icloudpd#1025). The signature `s` is the
 * simulator's own scheme (clients use the URL verbatim, so they never build one): a changed URL → 403,
 * unknown resource → 404 (both the simulator's choice); Range → 206, unsatisfiable → 416.
 */
import { Readable } from "node:stream";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { resourceSize, resourceStream } from "./content.ts";
import { checkDownloadUrl } from "./download-url.ts";
import { FLAG_EXPUNGED } from "./item-types.ts";
import { decodeDownloadToken } from "./names.ts";
import type { PhotosSimulator } from "./photos-simulator.ts";

function plain(status: number, text: string): SimResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, text };
}

/** Parses a single `bytes=` range against `size`; "invalid" when unsatisfiable, undefined when absent. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "invalid" | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, a = "", b = ""] = match;
  if (a === "" && b === "") return "invalid";
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "invalid";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return "invalid";
  return { start, end };
}

export function downloadRoute(sim: PhotosSimulator): Route {
  return {
    id: "photos.download",
    method: ["GET", "HEAD"],
    path: /^\/B\/(?<token>[A-Za-z0-9_-]+)\/(?<file>[^/]*)$/,
    handle(req: SimRequest): SimResponse {
      const token = req.params.token ?? "";
      const check = checkDownloadUrl(token, req.url.searchParams, sim.ctx.clock.now());
      if (!check.ok) {
        if (check.reason === "expired") return plain(410, "Gone");
        return plain(403, "Forbidden");
      }
      const library = sim.library(check.dsid);
      const zone = library?.zones.find((z) => z.library.zoneIndex === check.zoneIndex)?.library;
      const target = zone ? decodeDownloadToken(zone, token) : undefined;
      if (!zone || !target || (zone.flags[target.idx] ?? 0) & FLAG_EXPUNGED) return plain(404, "Not Found");
      const size = resourceSize(zone, target.idx, target.resource);
      const rangeHeader = req.headers.range;
      const range = parseRange(typeof rangeHeader === "string" ? rangeHeader : undefined, size);
      const headers: Record<string, string> = { "content-type": "application/octet-stream", "accept-ranges": "bytes" };
      if (range === "invalid")
        return { status: 416, headers: { ...headers, "content-range": `bytes */${size}` }, body: "" };
      const { start, end } = range ?? { start: 0, end: size - 1 };
      headers["content-length"] = String(end - start + 1);
      const status = range ? 206 : 200;
      if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
      // HEAD: an empty stream keeps our Content-Length (the core would otherwise send 0).
      if (req.method === "HEAD") return { status, headers, stream: Readable.from([]) };
      return { status, headers, stream: resourceStream(zone, target.idx, target.resource, start, end) };
    },
  };
}
