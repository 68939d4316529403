import { randomBytes, timingSafeEqual } from "node:crypto";
import {
  computeM1,
  computeM2,
  computeU,
  computeVerifier,
  derivePasswordKey,
  fromBytes,
  g,
  k,
  modPow,
  N,
  type SrpProtocol,
  sha256,
  toBytes,
} from "../icloud/srp-group.ts";

/** What the simulated idmsa keeps per account: salt and verifier, never the password. */
export interface SrpRecord {
  salt: Buffer;
  iterations: number;
  protocol: SrpProtocol;
  verifier: bigint;
}

export function createSrpRecord(
  password: string,
  protocol: SrpProtocol,
  iterations: number,
  salt = randomBytes(16),
): SrpRecord {
  const passwordKey = derivePasswordKey(password, salt, iterations, protocol);
  return { salt, iterations, protocol, verifier: computeVerifier(salt, passwordKey) };
}

/** The server half of one SRP exchange (one `signin/init` → `signin/complete`). */
export class SrpServerSession {
  readonly #record: SrpRecord;
  readonly #b: bigint;
  readonly B: bigint;
  readonly A: bigint;
  readonly #accountName: string;

  constructor(
    record: SrpRecord,
    accountName: string,
    clientPublic: Uint8Array,
    privateKey: Uint8Array = randomBytes(32),
  ) {
    this.#record = record;
    this.#accountName = accountName;
    this.A = fromBytes(clientPublic);
    if (this.A % N === 0n) throw new Error("SRP: invalid client public key");
    this.#b = fromBytes(privateKey);
    this.B = (((k * record.verifier) % N) + modPow(g, this.#b, N)) % N;
  }

  get publicKey(): string {
    return toBytes(this.B).toString("base64");
  }

  /** Checks the client's M1 and M2; true only when both prove knowledge of the password. */
  verify(m1: string, m2: string): boolean {
    const u = computeU(this.A, this.B);
    const S = modPow((this.A * modPow(this.#record.verifier, u, N)) % N, this.#b, N);
    const K = sha256(toBytes(S));
    const expectedM1 = computeM1(this.#accountName, this.#record.salt, this.A, this.B, K);
    const expectedM2 = computeM2(this.A, expectedM1, K);
    return safeEqual(expectedM1, Buffer.from(m1, "base64")) && safeEqual(expectedM2, Buffer.from(m2, "base64"));
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
