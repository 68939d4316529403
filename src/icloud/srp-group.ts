import { createHash, pbkdf2Sync } from "node:crypto";

/**
 * SRP-6a primitives as Apple's GSA web sign-in uses them: RFC 5054 2048-bit group, SHA-256,
 * RFC 5054 padding for k and u, no username in x. Shared by the client and the simulator's
 * server side; each side only uses the half that belongs to it.
 */
export const N = BigInt(
  "0xAC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310D" +
    "CD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF" +
    "747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D5" +
    "7D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFB" +
    "B694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73",
);
export const g = 2n;
export const N_BYTES = 256;

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Minimal big-endian bytes of a non-negative integer. */
export function toBytes(value: bigint): Buffer {
  if (value === 0n) return Buffer.alloc(1);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, "hex");
}

/** Big-endian bytes left-padded to the group size. */
export function pad(value: bigint): Buffer {
  const bytes = toBytes(value);
  if (bytes.length >= N_BYTES) return bytes;
  return Buffer.concat([Buffer.alloc(N_BYTES - bytes.length), bytes]);
}

export function fromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    b = (b * b) % modulus;
  }
  return result;
}

export const k = fromBytes(sha256(toBytes(N), pad(g)));

export type SrpProtocol = "s2k" | "s2k_fo";

/** PBKDF2-HMAC-SHA256 over SHA-256(password), raw (`s2k`) or as lowercase hex text (`s2k_fo`). */
export function derivePasswordKey(
  password: string,
  salt: Uint8Array,
  iterations: number,
  protocol: SrpProtocol,
): Buffer {
  const digest = sha256(Buffer.from(password, "utf8"));
  const input = protocol === "s2k" ? digest : Buffer.from(digest.toString("hex"), "utf8");
  return pbkdf2Sync(input, salt, iterations, 32, "sha256");
}

/** x = H(salt ‖ H(":" ‖ P)), the username left out. */
export function computeX(salt: Uint8Array, passwordKey: Uint8Array): bigint {
  return fromBytes(sha256(salt, sha256(Buffer.from(":"), passwordKey)));
}

export function computeVerifier(salt: Uint8Array, passwordKey: Uint8Array): bigint {
  return modPow(g, computeX(salt, passwordKey), N);
}

export function computeU(A: bigint, B: bigint): bigint {
  return fromBytes(sha256(pad(A), pad(B)));
}

/** M1 = H(H(N) xor H(g) ‖ H(accountName) ‖ salt ‖ A ‖ B ‖ K), A and B unpadded. */
export function computeM1(accountName: string, salt: Uint8Array, A: bigint, B: bigint, K: Uint8Array): Buffer {
  const hN = sha256(toBytes(N));
  const hg = sha256(pad(g));
  const xor = Buffer.alloc(hN.length);
  for (let i = 0; i < hN.length; i++) xor[i] = (hN[i] ?? 0) ^ (hg[i] ?? 0);
  return sha256(xor, sha256(Buffer.from(accountName, "utf8")), salt, toBytes(A), toBytes(B), K);
}

/** M2 = H(A ‖ M1 ‖ K). */
export function computeM2(A: bigint, M1: Uint8Array, K: Uint8Array): Buffer {
  return sha256(toBytes(A), M1, K);
}
