import { randomBytes, randomInt } from "node:crypto";

/** Realistic-looking opaque values (shapes from section 1.3 of the protocol reference). */
export const newScnt = (): string => `AAAA-${randomBytes(96).toString("base64")}`;
export const newAuthSessionId = (): string => randomBytes(64).toString("hex").toUpperCase();
export const newSessionToken = (): string => randomBytes(96).toString("base64");
export const newTrustToken = (): string => `HSARMTKNSRVW${randomBytes(96).toString("base64")}SRVX`;
export const newAuthAttributes = (): string => randomBytes(48).toString("base64");
export const newGrantCode = (): string => `c${randomBytes(24).toString("hex")}.0.ng.${randomBytes(16).toString("hex")}`;
export const newRepairToken = (): string => randomBytes(64).toString("base64");
export const newWebToken = (): string => `v=2:t=${randomBytes(48).toString("base64url").toUpperCase()}`;
export const newWebSessionId = (): string => randomBytes(64).toString("base64url");
export const newClientId = (): string => randomBytes(16).toString("hex").toUpperCase();

/** `c` of signin/init: `d-<n>-<hex>-<hex>:MSA`. */
export function newChallengeId(counter: number): string {
  return `d-${counter}-${randomBytes(4).toString("hex")}-${randomBytes(16).toString("hex")}:MSA`;
}

/** A random numeric code, as a string so leading zeros survive. */
export function newCode(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, "0");
}
