import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";

export const AUTH_COOKIE = "icloud2mqtt_auth";
const COOKIE_CONTEXT = "icloud2mqtt web session v1";
const BearerSchema = z
  .string()
  .max(2048)
  .regex(/^Bearer [\x21-\x7e]+$/);
const CookieValueSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Compares two strings in constant time (hashing first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Reads one cookie from the Cookie header (RFC 6265 pairs). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== "string" || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Checks `Authorization: Bearer <token>` or the login cookie. The cookie holds an HMAC of a
 * fixed context keyed with the token, never the token itself; changing the token logs
 * every browser out.
 */
export class TokenAuth {
  readonly #token: string;
  readonly #cookieValue: string;

  constructor(token: string) {
    this.#token = token;
    this.#cookieValue = createHmac("sha256", token).update(COOKIE_CONTEXT).digest("base64url");
  }

  checkToken(candidate: string): boolean {
    return safeEqual(candidate, this.#token);
  }

  isAuthorized(req: IncomingMessage): boolean {
    const bearer = BearerSchema.safeParse(req.headers.authorization);
    if (bearer.success && this.checkToken(bearer.data.slice("Bearer ".length))) return true;
    const cookie = CookieValueSchema.safeParse(readCookie(req, AUTH_COOKIE));
    return cookie.success && safeEqual(cookie.data, this.#cookieValue);
  }

  /** The Set-Cookie header for a successful login. */
  loginCookie(path: string, secure: boolean): string {
    return [
      `${AUTH_COOKIE}=${this.#cookieValue}`,
      `Path=${path}`,
      "HttpOnly",
      "SameSite=Strict",
      `Max-Age=${30 * 24 * 3600}`,
      ...(secure ? ["Secure"] : []),
    ].join("; ");
  }
}

export function logoutCookie(path: string): string {
  return `${AUTH_COOKIE}=; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=0`;
}
