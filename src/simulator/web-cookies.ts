import { randomBytes } from "node:crypto";
import { type CoreEnv, cookieLine } from "./core-env.ts";
import type { WebSession } from "./world.ts";

export const WEBAUTH_TOKEN = "X-APPLE-WEBAUTH-TOKEN";
export const WEBAUTH_USER = "X-APPLE-WEBAUTH-USER";
export const WEB_SESSION_TOKEN = "X-APPLE-DS-WEB-SESSION-TOKEN";
export const HSA_LOGIN = "X-APPLE-WEBAUTH-HSA-LOGIN";
export const HSA_TRUST = "X-APPLE-WEBAUTH-HSA-TRUST";

/** Apple's quirk: HSA-LOGIN comes already expired (Unix time 1) and must still be sent back. */
export const EXPIRED_1970 = 1000;

const DAY = 86_400_000;
const quoted = (value: string): string => `"${value}"`;
const vt = (version: number): string => `v=${version}:t=${randomBytes(32).toString("base64url").toUpperCase()}`;

/**
 * The X-APPLE-WEBAUTH-* cookies of accountLogin/validate. Host-only (one origin), Path=/, values
 * double-quoted like Apple's. `validateToken` is the fresh X-APPLE-WEBAUTH-TOKEN value.
 */
export function webSessionCookies(
  env: CoreEnv,
  session: WebSession,
  validateToken: string,
  trust: { value: string; expiresAt: number } | undefined,
): string[] {
  const now = env.world.clock.now();
  const kbName = `X_APPLE_WEB_KB-${randomBytes(20)
    .toString("base64url")
    .replace(/[^A-Za-z0-9]/g, "")
    .toUpperCase()
    .slice(0, 27)}`;
  const lines = [
    cookieLine(env, "X-APPLE-WEBAUTH-LOGIN", quoted(vt(1))),
    cookieLine(env, "X-APPLE-WEBAUTH-VALIDATE", quoted(vt(1)), { httpOnly: false }),
    cookieLine(env, HSA_LOGIN, quoted(session.hsaLogin), { expires: EXPIRED_1970 }),
    cookieLine(env, WEBAUTH_USER, quoted(`v=1:s=1:d=${session.account.dsid}`), { expires: session.expiresAt }),
    cookieLine(env, kbName, quoted(vt(1)), { expires: now + 60 * DAY }),
    cookieLine(env, WEB_SESSION_TOKEN, quoted(session.id), { expires: session.expiresAt }),
    cookieLine(env, "X-APPLE-UNIQUE-CLIENT-ID", quoted(session.clientId), { expires: session.expiresAt }),
    cookieLine(env, WEBAUTH_TOKEN, quoted(validateToken), { expires: session.expiresAt }),
  ];
  if (trust) lines.push(cookieLine(env, HSA_TRUST, quoted(trust.value), { expires: trust.expiresAt }));
  if (!session.restricted && !session.account.config.web_access_disabled) {
    for (const service of ["Photos", "Sharing", "Cloudkit"]) {
      lines.push(cookieLine(env, `X-APPLE-WEBAUTH-PCS-${service}`, quoted(vt(1)), { expires: session.expiresAt }));
    }
  }
  return lines;
}

/** Logout: every web session cookie cleared. */
export function clearedCookies(env: CoreEnv, names: Iterable<string>): string[] {
  return [...names]
    .filter((name) => name.startsWith("X-APPLE-") || name.startsWith("X_APPLE_WEB_KB"))
    .filter((name) => name !== HSA_TRUST)
    .map((name) => cookieLine(env, name, '""', { expires: EXPIRED_1970 }));
}
