import { createHmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { AUTH_COOKIE, logoutCookie, readCookie, safeEqual, TokenAuth } from "../../src/http/auth.ts";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const TOKEN = "s3cr3t-token_value";
/** The login cookie's value, derived here independently: HMAC-SHA256 of the fixed context, keyed with the token. */
const cookieValue = (token: string) =>
  createHmac("sha256", token).update("icloud2mqtt web session v1").digest("base64url");

describe("readCookie", () => {
  it("finds one cookie among others, trimmed", () => {
    expect(readCookie(req({ cookie: "a=1; b = two ;c=3" }), "b")).toBe("two");
    expect(readCookie(req({ cookie: "a=1" }), "b")).toBeUndefined();
    expect(readCookie(req({}), "a")).toBeUndefined();
    // A pair without "=" is no cookie, even when it starts with the name.
    expect(readCookie(req({ cookie: "abcx; abc=1" }), "abc")).toBe("1");
    expect(readCookie(req({ cookie: "abc" }), "abc")).toBeUndefined();
  });

  it("ignores a Cookie header longer than 8 KiB", () => {
    const pad = (length: number) => `x=${"y".repeat(length - "x=; a=1".length)}; a=1`;
    expect(pad(8192)).toHaveLength(8192);
    expect(readCookie(req({ cookie: pad(8192) }), "a")).toBe("1");
    expect(readCookie(req({ cookie: pad(8193) }), "a")).toBeUndefined();
  });
});

describe("TokenAuth", () => {
  const auth = new TokenAuth(TOKEN);

  it("accepts the bearer token and the login cookie, nothing else", () => {
    expect(auth.isAuthorized(req({ authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(auth.isAuthorized(req({ cookie: `${AUTH_COOKIE}=${cookieValue(TOKEN)}` }))).toBe(true);
    expect(auth.isAuthorized(req({ cookie: `other=1; ${AUTH_COOKIE}=${cookieValue(TOKEN)}` }))).toBe(true);
    const refused: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `bearer ${TOKEN}` },
      { authorization: `Basic ${TOKEN}` },
      { authorization: `Bearer ${TOKEN} ` },
      { cookie: `${AUTH_COOKIE}=${TOKEN}` },
      { cookie: `${AUTH_COOKIE}=${cookieValue("another token")}` },
      { cookie: `${AUTH_COOKIE}=${cookieValue(TOKEN)}x` },
    ];
    for (const headers of refused) {
      expect(auth.isAuthorized(req(headers)), JSON.stringify(headers)).toBe(false);
    }
  });

  it("takes only the Bearer scheme with a token of visible ASCII, whatever the token looks like", () => {
    // A token with a space can be typed into the login page but is no RFC 6750 bearer token.
    const spaced = new TokenAuth("two words");
    expect(spaced.checkToken("two words")).toBe(true);
    expect(spaced.isAuthorized(req({ authorization: "Bearer two words" }))).toBe(false);
    // Another scheme never authorizes, even when the text after its first 7 characters is the token.
    const odd = new TokenAuth("Bearer x");
    expect(odd.isAuthorized(req({ authorization: "Basic  Bearer x" }))).toBe(false);
  });

  it("sets a login cookie that is HttpOnly, SameSite=Strict, 30 days, Secure on HTTPS", () => {
    const value = cookieValue(TOKEN);
    expect(auth.loginCookie("/", false)).toBe(
      `${AUTH_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000`,
    );
    expect(auth.loginCookie("/ingress/", true)).toBe(
      `${AUTH_COOKIE}=${value}; Path=/ingress/; HttpOnly; SameSite=Strict; Max-Age=2592000; Secure`,
    );
    expect(auth.loginCookie("/", true)).not.toContain(TOKEN);
    expect(logoutCookie("/x/")).toBe(`${AUTH_COOKIE}=; Path=/x/; HttpOnly; SameSite=Strict; Max-Age=0`);
  });

  it("compares secrets exactly", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("é", "é")).toBe(true);
    expect(safeEqual("é", "e\u0301")).toBe(false);
  });
});
