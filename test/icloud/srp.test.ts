import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { SrpClient } from "../../src/icloud/srp.ts";
import { computeVerifier, derivePasswordKey, N, toBytes } from "../../src/icloud/srp-group.ts";
import { createSrpRecord, SrpServerSession } from "../../src/simulator/srp-server.ts";

const Vector = z.object({
  accountName: z.string(),
  password: z.string(),
  protocol: z.enum(["s2k", "s2k_fo"]),
  iterations: z.number(),
  salt: z.string(),
  passwordKey: z.string(),
  verifier: z.string(),
  a: z.string(),
  A: z.string(),
  b: z.string(),
  B: z.string(),
  K: z.string(),
  m1: z.string(),
  m2: z.string(),
});
const fixture = z
  .object({ vectors: z.array(Vector).min(1) })
  .parse(JSON.parse(readFileSync(new URL("../fixtures/srp-vectors.json", import.meta.url), "utf8")));
const b64 = (s: string) => Buffer.from(s, "base64");

describe("GSA SRP against independent vectors", () => {
  for (const [index, v] of fixture.vectors.entries()) {
    describe(`vector ${index} (${v.protocol}, ${v.iterations} iterations)`, () => {
      it("derives the password key and verifier", () => {
        const key = derivePasswordKey(v.password, b64(v.salt), v.iterations, v.protocol);
        expect(key.toString("base64")).toBe(v.passwordKey);
        expect(toBytes(computeVerifier(b64(v.salt), key)).toString("base64")).toBe(v.verifier);
      });

      it("client computes A, K, M1 and M2", () => {
        const client = new SrpClient(v.accountName, b64(v.a));
        expect(client.publicKey).toBe(v.A);
        const proof = client.computeProof(v.password, {
          salt: v.salt,
          b: v.B,
          iteration: v.iterations,
          protocol: v.protocol,
        });
        expect(proof.K.toString("base64")).toBe(v.K);
        expect(proof.m1).toBe(v.m1);
        expect(proof.m2).toBe(v.m2);
      });

      it("server computes B and accepts the vector's proof", () => {
        const record = createSrpRecord(v.password, v.protocol, v.iterations, b64(v.salt));
        const server = new SrpServerSession(record, v.accountName, b64(v.A), b64(v.b));
        expect(server.publicKey).toBe(v.B);
        expect(server.verify(v.m1, v.m2)).toBe(true);
      });

      it("server rejects the right M1 with a tampered or missing M2", () => {
        const record = createSrpRecord(v.password, v.protocol, v.iterations, b64(v.salt));
        const server = new SrpServerSession(record, v.accountName, b64(v.A), b64(v.b));
        const m2 = b64(v.m2);
        m2[m2.length - 1] = (m2[m2.length - 1] ?? 0) ^ 1;
        expect(server.verify(v.m1, m2.toString("base64"))).toBe(false);
        expect(server.verify(v.m1, "")).toBe(false);
        expect(server.verify(v.m1, v.m1)).toBe(false);
        // ...and the right M2 with a tampered M1.
        const m1 = b64(v.m1);
        m1[0] = (m1[0] ?? 0) ^ 0x80;
        expect(server.verify(m1.toString("base64"), v.m2)).toBe(false);
      });

      it("server rejects a proof made with another password", () => {
        const record = createSrpRecord(v.password, v.protocol, v.iterations, b64(v.salt));
        const server = new SrpServerSession(record, v.accountName, b64(v.A), b64(v.b));
        const wrong = new SrpClient(v.accountName, b64(v.a)).computeProof(`${v.password}!`, {
          salt: v.salt,
          b: v.B,
          iteration: v.iterations,
          protocol: v.protocol,
        });
        expect(server.verify(wrong.m1, wrong.m2)).toBe(false);
      });
    });
  }
});

describe("the client refuses a server public key that would give away the session key", () => {
  const [v] = fixture.vectors;
  it.each([
    ["zero", Buffer.alloc(1)],
    ["empty", Buffer.alloc(0)],
    ["N", toBytes(N)],
    ["2N", toBytes(2n * N)],
  ])("B = %s", (_, B) => {
    if (!v) throw new Error("no vector");
    const client = new SrpClient(v.accountName, b64(v.a));
    const challenge = { salt: v.salt, b: B.toString("base64"), iteration: v.iterations, protocol: v.protocol };
    expect(() => client.computeProof(v.password, challenge)).toThrow("SRP: server sent an invalid public key");
  });
});
