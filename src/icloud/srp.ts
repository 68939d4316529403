import { randomBytes } from "node:crypto";
import {
  computeM1,
  computeM2,
  computeU,
  computeX,
  derivePasswordKey,
  fromBytes,
  g,
  k,
  modPow,
  N,
  type SrpProtocol,
  sha256,
  toBytes,
} from "./srp-group.ts";

export type { SrpProtocol } from "./srp-group.ts";

export interface SrpChallenge {
  salt: string;
  b: string;
  iteration: number;
  protocol: SrpProtocol;
}

export interface SrpProof {
  m1: string;
  m2: string;
}

/**
 * The client half of Apple's GSA SRP-6a exchange: `A` for `signin/init`, then `m1`/`m2` for
 * `signin/complete` from the server's challenge. The password only lives inside this object.
 */
export class SrpClient {
  readonly #a: bigint;
  readonly #A: bigint;
  readonly #accountName: string;

  constructor(accountName: string, privateKey: Uint8Array = randomBytes(32)) {
    this.#accountName = accountName;
    this.#a = fromBytes(privateKey);
    this.#A = modPow(g, this.#a, N);
    if (this.#A % N === 0n) throw new Error("SRP: invalid private key");
  }

  /** Standard base64 of A, as `signin/init` expects it. */
  get publicKey(): string {
    return toBytes(this.#A).toString("base64");
  }

  computeProof(password: string, challenge: SrpChallenge): SrpProof & { K: Buffer } {
    const salt = Buffer.from(challenge.salt, "base64");
    const B = fromBytes(Buffer.from(challenge.b, "base64"));
    if (B % N === 0n) throw new Error("SRP: server sent an invalid public key");
    const passwordKey = derivePasswordKey(password, salt, challenge.iteration, challenge.protocol);
    const x = computeX(salt, passwordKey);
    const u = computeU(this.#A, B);
    if (u === 0n) throw new Error("SRP: invalid scrambling parameter");
    const base = (((B - ((k * modPow(g, x, N)) % N)) % N) + N) % N;
    const S = modPow(base, this.#a + u * x, N);
    const K = sha256(toBytes(S));
    const M1 = computeM1(this.#accountName, salt, this.#A, B, K);
    const M2 = computeM2(this.#A, M1, K);
    return { m1: M1.toString("base64"), m2: M2.toString("base64"), K };
  }
}
