import { Cookie, CookieJar, type SerializedCookieJar } from "tough-cookie";

/**
 * A tough-cookie jar with Apple's quirk: some cookies (notably `X-APPLE-WEBAUTH-HSA-LOGIN`) arrive
 * with an Expires in the past yet must be sent back. Such cookies (non-empty value, past expiry) are
 * kept as session cookies; a cookie with an empty value still deletes.
 */
export class AppleCookieJar {
  #jar: CookieJar;

  constructor(jar?: CookieJar) {
    this.#jar = jar ?? newJar();
  }

  static fromSerialized(data: unknown): AppleCookieJar {
    if (data === undefined || data === null) return new AppleCookieJar();
    const jar = CookieJar.deserializeSync(data as SerializedCookieJar);
    return new AppleCookieJar(jar);
  }

  /** Stores one `Set-Cookie` header value received from `url`. Invalid cookies are ignored. */
  async store(setCookie: string, url: string, now: Date = new Date()): Promise<void> {
    const cookie = Cookie.parse(setCookie, { loose: true });
    if (!cookie) return;
    const expiry = cookie.expiryTime(now);
    const pastExpiry =
      (expiry !== undefined && expiry <= now.getTime()) || (typeof cookie.maxAge === "number" && cookie.maxAge <= 0);
    if (pastExpiry && cookie.value !== "" && cookie.value !== '""') {
      cookie.expires = "Infinity";
      cookie.maxAge = null;
    }
    await this.#jar.setCookie(cookie, url, { ignoreError: true, now });
  }

  async cookieHeader(url: string): Promise<string> {
    return this.#jar.getCookieString(url);
  }

  /** All cookies of the jar (for lookups such as the HSA trust expiry). */
  all(): Cookie[] {
    const serialised = this.#jar.serializeSync();
    const out: Cookie[] = [];
    for (const raw of serialised?.cookies ?? []) {
      const cookie = Cookie.fromJSON(raw);
      if (cookie) out.push(cookie);
    }
    return out;
  }

  find(name: string): Cookie | undefined {
    const now = Date.now();
    return this.all().find(
      (c) => c.key === name && c.value !== "" && (c.expiryTime() ?? Number.POSITIVE_INFINITY) > now,
    );
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** Removes every cookie with this name (e.g. a stale `X-APPLE-WEBAUTH-FMIP`). */
  async remove(name: string): Promise<void> {
    const keep = this.all().filter((c) => c.key !== name);
    await this.replaceWith(keep);
  }

  async clear(): Promise<void> {
    await this.#jar.removeAllCookies();
  }

  serialize(): SerializedCookieJar | undefined {
    return this.#jar.serializeSync();
  }

  private async replaceWith(cookies: Cookie[]): Promise<void> {
    const serialised = this.#jar.serializeSync();
    if (!serialised) return;
    this.#jar = CookieJar.deserializeSync({ ...serialised, cookies: cookies.map((c) => c.toJSON()) });
  }
}

function newJar(): CookieJar {
  // Local simulators use 127.0.0.1 / localhost: allow special-use domains, loose parsing. Cookies
  // for a public suffix (Domain=com) are still refused.
  return new CookieJar(undefined, { looseMode: true, allowSpecialUseDomain: true, rejectPublicSuffixes: true });
}
