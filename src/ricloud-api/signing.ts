import { createHmac } from "node:crypto";

/**
 * `Ricloud-Signature: t=<unix seconds>,s=<base64 HMAC-SHA256>` over `"<t>.<raw body>"` with the
 * webhook config's secret, which is what ricloud-py's `Signature.verify` checks (it also rejects a
 * timestamp older than its `delta`, 600 s by default).
 */
export function signatureHeader(body: string, secret: string, nowMs: number = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000);
  const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("base64");
  return `t=${timestamp},s=${signature}`;
}
