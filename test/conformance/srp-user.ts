/**
 * The client half of Apple's SRP as pysrp computes it for pyicloud/icloudpd (`srp.User` with
 * `rfc5054_enable()`, `no_username_in_x()`, SHA-256, 2048-bit group) and as @foxt/js-srp's GSA mode
 * does for icloud-photos-sync. Written for the conformance replays independently of src/icloud and
 * of the simulator's server half, so an error on either side shows up here.
 */
import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";

const N = BigInt(
  "0xAC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73",
);
const g = 2n;
const LEN = 256;

const H = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const big = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
const bytes = (value: bigint): Buffer => {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
};
const padded = (value: bigint): Buffer => {
  const raw = bytes(value);
  return Buffer.concat([Buffer.alloc(LEN - raw.length), raw]);
};
function powMod(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

export interface SrpChallenge {
  salt: string;
  b: string;
  c: string;
  iteration: number;
  protocol: string;
}

export class SrpUser {
  readonly #a = big(randomBytes(32));
  readonly #A = powMod(g, this.#a, N);
  readonly accountName: string;

  constructor(accountName: string) {
    this.accountName = accountName;
  }

  /** `a` of signin/init: base64 of A. */
  get a(): string {
    return bytes(this.#A).toString("base64");
  }

  /** m1 and m2 (pysrp's `process_challenge` and `H_AMK`), base64. */
  proof(password: string, challenge: SrpChallenge): { m1: string; m2: string } {
    const salt = Buffer.from(challenge.salt, "base64");
    const B = big(Buffer.from(challenge.b, "base64"));
    const digest = createHash("sha256").update(password, "utf8").digest();
    const pw = challenge.protocol === "s2k_fo" ? Buffer.from(digest.toString("hex"), "utf8") : digest;
    const p = pbkdf2Sync(pw, salt, challenge.iteration, 32, "sha256");
    const x = big(H(salt, H(Buffer.from(":"), p)));
    const k = big(H(bytes(N), padded(g)));
    const u = big(H(padded(this.#A), padded(B)));
    const base = (((B - ((k * powMod(g, x, N)) % N)) % N) + N) % N;
    const S = powMod(base, this.#a + u * x, N);
    const K = H(bytes(S));
    const hn = H(bytes(N));
    const hg = H(padded(g));
    const xor = Buffer.from(hn.map((byte, i) => byte ^ (hg[i] ?? 0)));
    const m1 = H(xor, H(Buffer.from(this.accountName, "utf8")), salt, bytes(this.#A), bytes(B), K);
    const m2 = H(bytes(this.#A), m1, K);
    return { m1: m1.toString("base64"), m2: m2.toString("base64") };
  }
}
