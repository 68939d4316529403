import { createHash, timingSafeEqual } from "node:crypto";
import type { PasswordVerifier } from "./sessions.ts";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * A session payload's password checked against the configured accounts' passwords, in constant time
 * (digests only are kept here). `unknown` when an account has no configured password (its session
 * came from `icloud2mqtt login`): then the API key alone decides, as for every other request.
 */
export function passwordVerifier(accounts: ReadonlyArray<{ id: string; password: string | null }>): PasswordVerifier {
  const digests = new Map(accounts.flatMap((a) => (a.password === null ? [] : [[a.id, digest(a.password)] as const])));
  return (account, candidate) => {
    const expected = digests.get(account);
    if (expected === undefined) return "unknown";
    return timingSafeEqual(expected, digest(candidate)) ? "match" : "mismatch";
  };
}
