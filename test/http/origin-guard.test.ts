import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { isAllowedHost, isCrossSite } from "../../src/http/origin-guard.ts";

/** Only the headers matter to the guard (lower-case names, as Node's parser gives them). */
const req = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;

describe("isCrossSite", () => {
  it("trusts the browser's Sec-Fetch-Site label first", () => {
    expect(isCrossSite(req({ "sec-fetch-site": "cross-site" }))).toBe(true);
    expect(isCrossSite(req({ "sec-fetch-site": "same-site", origin: "http://ha.local", host: "ha.local" }))).toBe(true);
    // same-origin: the browser says so, even when a proxy rewrote Host.
    expect(
      isCrossSite(req({ "sec-fetch-site": "same-origin", origin: "http://public.example", host: "127.0.0.1:8080" })),
    ).toBe(false);
    expect(isCrossSite(req({ "sec-fetch-site": "same-origin" }))).toBe(false);
    // "none" (typed URL, bookmark) and unknown labels: the Origin decides.
    expect(isCrossSite(req({ "sec-fetch-site": "none" }))).toBe(false);
    expect(isCrossSite(req({ "sec-fetch-site": "none", origin: "http://evil.example", host: "ha.local" }))).toBe(true);
    expect(isCrossSite(req({ "sec-fetch-site": "weird", origin: "http://ha.local", host: "ha.local" }))).toBe(false);
    expect(isCrossSite(req({ "sec-fetch-site": ["cross-site", "same-origin"] }))).toBe(true);
  });

  it("without a label, compares the Origin's host with Host or X-Forwarded-Host", () => {
    expect(isCrossSite(req({}))).toBe(false); // curl, scripts, Home Assistant
    expect(isCrossSite(req({ origin: "http://HA.local:8123", host: "ha.local:8123" }))).toBe(false);
    expect(isCrossSite(req({ origin: "http://ha.local:8123", host: "ha.local" }))).toBe(true); // port differs
    expect(isCrossSite(req({ origin: "http://evil.example", host: "ha.local" }))).toBe(true);
    // Behind a reverse proxy (ingress): the forwarded host, trimmed, first or later in the list.
    const proxied = { origin: "https://ha.example.org", host: "172.30.32.1:8099" };
    expect(isCrossSite(req({ ...proxied, "x-forwarded-host": "ha.example.org" }))).toBe(false);
    expect(isCrossSite(req({ ...proxied, "x-forwarded-host": "proxy.internal, ha.example.org" }))).toBe(false);
    expect(isCrossSite(req({ ...proxied, "x-forwarded-host": "proxy.internal" }))).toBe(true);
    expect(isCrossSite(req({ origin: "https://ha.example.org", "x-forwarded-host": " ha.example.org " }))).toBe(false);
  });

  it("treats an opaque or unparsable Origin, and a malformed Host, as cross-site", () => {
    expect(isCrossSite(req({ origin: "null", host: "ha.local" }))).toBe(true);
    expect(isCrossSite(req({ origin: "not a url", host: "ha.local" }))).toBe(true);
    // A Host outside the host grammar is never taken as ours, even when the Origin's host equals it.
    expect(isCrossSite(req({ origin: "http://ha!x.local", host: "ha!x.local" }))).toBe(true);
    expect(isCrossSite(req({ origin: "http://ha.local", host: `${"a".repeat(300)}.local` }))).toBe(true);
  });
});

describe("isAllowedHost", () => {
  it("allows no Host (HTTP/1.0) and an empty one, loopback names, IP literals and the allowed names", () => {
    expect(isAllowedHost(req({}), [])).toBe(true);
    expect(isAllowedHost(req({ host: "" }), [])).toBe(true);
    for (const host of ["localhost", "LOCALHOST:8080", "localhost.", "127.0.0.1:80", "[::1]:8080", "192.168.1.9"]) {
      expect(isAllowedHost(req({ host }), []), host).toBe(true);
    }
    expect(isAllowedHost(req({ host: "[fe80::1]" }), [])).toBe(true);
    expect(isAllowedHost(req({ host: " localhost " }), [])).toBe(true);
    expect(isAllowedHost(req({ host: "homeassistant:8099" }), ["HomeAssistant"])).toBe(true);
  });

  it("refuses other names (a rebinding page's), malformed hosts and bracketed non-addresses", () => {
    expect(isAllowedHost(req({ host: "evil.example" }), ["homeassistant"])).toBe(false);
    expect(isAllowedHost(req({ host: "localhost.evil.example" }), [])).toBe(false);
    expect(isAllowedHost(req({ host: "[abcd]" }), [])).toBe(false);
    expect(isAllowedHost(req({ host: "[abcd]" }), ["[abcd]"])).toBe(true);
    expect(isAllowedHost(req({ host: "evil.example/x" }), ["evil.example/x"])).toBe(false);
    expect(isAllowedHost(req({ host: "a:b:c" }), [])).toBe(false);
  });
});
