/**
 * Download URLs shaped like cvws.icloud-content.com's:
 * `{origin}/B/<fileChecksum‖referenceChecksum, url-safe>/${f}?o=…&v=1&x=3&a=…&e=<unix s>&fl=&r=…-1&k=…&ckc=…&ckz=…&y=1&p=…&s=…`.
 * `o` names the account and zone, `e` is the expiry and `s` signs token, o and e (simulator-only scheme).
 */
import { createHmac } from "node:crypto";
import { hashString } from "../prng.ts";
import { derivedUuid, downloadToken, wrappingKey } from "./names.ts";
import type { ZoneLibrary } from "./zone-library.ts";

/** How long a download URL stays valid (CloudKit's are about an hour). */
export const DOWNLOAD_URL_TTL_S = 3600;
const SECRET = "icloud2mqtt-simulator-cvws";

function sign(token: string, o: string, e: string): string {
  return createHmac("sha256", SECRET).update(`${token}\n${o}\n${e}`).digest("base64url").slice(0, 27);
}

let lastRequestId = { key: "", value: "" };

/** A request id per account and second, like the `r` parameter of CloudKit download URLs. */
function requestId(dsid: string, seconds: number): string {
  const key = `${dsid}:${seconds}`;
  if (lastRequestId.key !== key) lastRequestId = { key, value: derivedUuid(hashString(dsid), seconds).toLowerCase() };
  return lastRequestId.value;
}

/** `precomputed` saves recomputing the token and wrapping key when the caller has them. */
export function buildDownloadUrl(
  origin: string,
  dsid: string,
  z: ZoneLibrary,
  idx: number,
  resource: number,
  nowMs: number,
  precomputed?: { token: string; wrappingKey: string },
): string {
  const token = precomputed?.token ?? downloadToken(z, idx, resource);
  const o = Buffer.from(`${dsid}:${z.zoneIndex}`).toString("base64url");
  const e = String(Math.floor(nowMs / 1000) + DOWNLOAD_URL_TTL_S);
  const k = Buffer.from(precomputed?.wrappingKey ?? wrappingKey(z, idx, resource), "base64").toString("base64url");
  const r = requestId(dsid, Math.floor(nowMs / 1000));
  const a = Buffer.from(token.slice(0, 12)).toString("base64url");
  const query = `o=${o}&v=1&x=3&a=${a}&e=${e}&fl=&r=${r}-1&k=${k}&ckc=com.apple.photos.cloud&ckz=${encodeURIComponent(z.zone.zoneName)}&y=1&p=61&s=${sign(token, o, e)}`;
  return `${origin}/B/${token}/\${f}?${query}`;
}

export type DownloadUrlCheck =
  | { ok: true; dsid: string; zoneIndex: number; token: string }
  | { ok: false; reason: "malformed" | "signature" | "expired" };

/** Checks a download request's token and query against the signature and the simulator time. */
export function checkDownloadUrl(token: string, query: URLSearchParams, nowMs: number): DownloadUrlCheck {
  const o = query.get("o");
  const e = query.get("e");
  const s = query.get("s");
  if (!o || !e || !s || !/^\d+$/.test(e)) return { ok: false, reason: "malformed" };
  if (sign(token, o, e) !== s) return { ok: false, reason: "signature" };
  if (Number(e) * 1000 <= nowMs) return { ok: false, reason: "expired" };
  const decoded = Buffer.from(o, "base64url").toString("utf8");
  const colon = decoded.lastIndexOf(":");
  if (colon <= 0) return { ok: false, reason: "malformed" };
  return { ok: true, dsid: decoded.slice(0, colon), zoneIndex: Number(decoded.slice(colon + 1)), token };
}
