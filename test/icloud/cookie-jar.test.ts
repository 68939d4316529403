import { afterEach, describe, expect, it, vi } from "vitest";
import { AppleCookieJar } from "../../src/icloud/cookie-jar.ts";

const SETUP = "https://setup.icloud.com/setup/ws/1/accountLogin";
const PAST = "Expires=Thu, 01 Jan 1970 00:00:01 GMT";

afterEach(() => {
  vi.useRealTimers();
});

describe("AppleCookieJar", () => {
  it("starts empty from nothing stored, and works", async () => {
    for (const stored of [undefined, null]) {
      const jar = AppleCookieJar.fromSerialized(stored);
      expect(jar.all()).toEqual([]);
      await jar.store("A=1; Path=/", "http://127.0.0.1:4000/x");
      expect(await jar.cookieHeader("http://127.0.0.1:4000/y")).toBe("A=1");
    }
  });

  it("keeps a valued cookie that arrives already expired (Expires now or past, Max-Age 0) as a session cookie", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const jar = new AppleCookieJar();
    await jar.store(`A=1; ${PAST}; Path=/`, SETUP, now);
    await jar.store("B=2; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/", SETUP, now);
    await jar.store("C=3; Max-Age=0; Path=/", SETUP, now);
    await jar.store("D=4; Max-Age=-1; Path=/", SETUP, now);
    expect(await jar.cookieHeader(SETUP)).toBe("A=1; B=2; C=3; D=4");
    expect(jar.all().map((c) => [c.key, c.expiryTime()])).toEqual([
      ["A", Number.POSITIVE_INFINITY],
      ["B", Number.POSITIVE_INFINITY],
      ["C", Number.POSITIVE_INFINITY],
      ["D", Number.POSITIVE_INFINITY],
    ]);
  });

  it("a cookie with a lifetime keeps it, counted from the time given", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const jar = new AppleCookieJar();
    await jar.store("A=1; Max-Age=60; Path=/", SETUP, now);
    await jar.store("B=1; Expires=Tue, 01 Jan 2030 00:01:00 GMT; Path=/", SETUP, now);
    expect(jar.all().map((c) => [c.key, c.expiryTime()])).toEqual([
      ["A", now.getTime() + 60_000],
      ["B", now.getTime() + 60_000],
    ]);
  });

  it('an empty value (also written "") with a past expiry deletes', async () => {
    const jar = new AppleCookieJar();
    await jar.store("A=1; Path=/", SETUP);
    await jar.store("B=1; Path=/", SETUP);
    await jar.store(`A=""; ${PAST}; Path=/`, SETUP);
    await jar.store("B=; Max-Age=0; Path=/", SETUP);
    expect(await jar.cookieHeader(SETUP)).toBe("");
  });

  it("ignores what cannot be a cookie for this URL: unparsable, another domain, a public suffix", async () => {
    const jar = new AppleCookieJar();
    await jar.store("", SETUP);
    await jar.store("A=1; Domain=apple.example", SETUP);
    await jar.store("B=1; Domain=com", "https://x.com/");
    expect(jar.all()).toEqual([]);
    // Loose parsing as browsers do: a pair without a name is a value.
    await jar.store("abc", SETUP);
    expect(await jar.cookieHeader(SETUP)).toBe("abc");
  });

  it("takes cookies for the simulator's hosts: localhost (also as Domain) and IP addresses", async () => {
    const jar = new AppleCookieJar();
    await jar.store("A=1; Domain=localhost; Path=/", "http://localhost:1234/");
    await jar.store("B=1; Path=/", "http://127.0.0.1:1234/");
    expect(await jar.cookieHeader("http://localhost:1234/x")).toBe("A=1");
    expect(await jar.cookieHeader("http://127.0.0.1:1234/x")).toBe("B=1");
    expect(jar.serialize()).toMatchObject({
      enableLooseMode: true,
      allowSpecialUseDomain: true,
      rejectPublicSuffixes: true,
    });
  });

  it("finds a cookie by name only while it has a value and has not expired", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const jar = new AppleCookieJar();
    await jar.store("A=1; Path=/", SETUP);
    await jar.store("B=2; Max-Age=60; Path=/", SETUP);
    await jar.store("E=; Path=/", SETUP);
    expect(jar.find("A")?.value).toBe("1");
    expect(jar.has("A")).toBe(true);
    expect(jar.has("B")).toBe(true);
    expect(jar.has("E")).toBe(false);
    expect(jar.has("Z")).toBe(false);
    expect(jar.find("Z")).toBeUndefined();
    vi.setSystemTime(new Date("2030-01-01T00:01:00Z")); // B's expiry: gone from that instant
    expect(jar.has("B")).toBe(false);
    expect(jar.has("A")).toBe(true);
  });

  it("removes cookies by name, or all of them", async () => {
    const jar = new AppleCookieJar();
    await jar.store("A=1; Path=/", SETUP);
    await jar.store("A=2; Path=/other", SETUP);
    await jar.store("B=1; Path=/", SETUP);
    await jar.remove("A");
    expect(jar.all().map((c) => c.key)).toEqual(["B"]);
    await jar.remove("missing");
    expect(jar.all().map((c) => c.key)).toEqual(["B"]);
    await jar.clear();
    expect(jar.all()).toEqual([]);
  });
});
