import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

/**
 * A slow, salted fingerprint of a refused password, kept next to the session tokens (same 0600
 * file) only to notice that the password changed since Apple refused it.
 */
export interface PasswordCheck {
  salt: string;
  hash: string;
}

export function passwordCheck(password: string): PasswordCheck {
  const salt = randomBytes(16);
  return { salt: salt.toString("base64"), hash: scryptSync(password, salt, 16).toString("base64") };
}

export function samePassword(password: string, check: PasswordCheck): boolean {
  const expected = Buffer.from(check.hash, "base64");
  const actual = scryptSync(password, Buffer.from(check.salt, "base64"), expected.length);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
