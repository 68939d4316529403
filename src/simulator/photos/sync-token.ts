/**
 * Sync tokens shaped like CloudKit's (33 bytes, base64: 0x01, an 8-byte counter, 0x7fff…,
 * 16 key-derived bytes). The counter is a change-log sequence number; the trailing bytes tie
 * the token to its zone (or database) so a token from elsewhere is rejected as BAD_REQUEST.
 */
import { fillBytes } from "../prng.ts";

export function encodeSyncToken(key: number, seq: number): string {
  const out = Buffer.alloc(33);
  out[0] = 0x01;
  out.writeBigUInt64BE(BigInt(seq), 1);
  out.fill(0xff, 9, 17);
  out[9] = 0x7f;
  fillBytes(out.subarray(17), key, seq, 0x70c);
  return out.toString("base64");
}

/** The sequence number in a token, or undefined when it is malformed, foreign or from the future. */
export function decodeSyncToken(key: number, token: string, head: number): number | undefined {
  if (!/^[A-Za-z0-9+/]{44}$/.test(token)) return undefined;
  const bytes = Buffer.from(token, "base64");
  if (bytes.length !== 33 || bytes[0] !== 0x01) return undefined;
  const big = bytes.readBigUInt64BE(1);
  if (big > BigInt(head)) return undefined;
  const seq = Number(big);
  return encodeSyncToken(key, seq) === token ? seq : undefined;
}
