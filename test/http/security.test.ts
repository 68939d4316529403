import { connect } from "node:net";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { EngineError } from "../../src/errors.ts";
import { HttpServer } from "../../src/http/index.ts";
import type { Logger } from "../../src/logger.ts";
import {
  blockedState,
  GOOD_CODE,
  type Harness,
  httpConfig,
  httpFakeEngine,
  startHarness,
  TOKEN,
} from "../support/http.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function call(url: string, method = "GET", headers: Record<string, string> = {}, body?: string) {
  const res = await request(url, { method: method as "GET", headers, ...(body === undefined ? {} : { body }) });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

function captureLogger(lines: string[]): Logger {
  const log = (msg: string, ctx?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(ctx ?? {})}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe("binding and authentication", () => {
  it("refuses a non-loopback host without token or allow_unauthenticated", () => {
    const make = () =>
      new HttpServer({
        api: httpFakeEngine(),
        config: httpConfig({ host: "0.0.0.0" }),
        push: { enabled: false, subject: null },
        stateDir: "/nonexistent",
      });
    expect(make).toThrow(EngineError);
    expect(make).toThrow(/not a loopback address/);
    try {
      make();
    } catch (error) {
      expect((error as EngineError).code).toBe("CONFIG_INVALID");
    }
  });

  it("binds 0.0.0.0 with allow_unauthenticated and serves without a token", async () => {
    h = await startHarness({ http: { host: "0.0.0.0", allow_unauthenticated: true } });
    expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await call(`${h.url}api/state`)).status).toBe(200);
  });

  it("requires the bearer token on 0.0.0.0 (reached via 127.0.0.1)", async () => {
    h = await startHarness({ http: { host: "0.0.0.0", auth_token: TOKEN } });
    const none = await call(`${h.url}api/state`);
    expect(none).toMatchObject({ status: 401, json: { message: "Authentication required" } });
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect((await call(`${h.url}api/state`, "GET", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await call(`${h.url}api/state`, "GET", { authorization: `Basic ${TOKEN}` })).status).toBe(401);
    expect((await call(`${h.url}api/sync`, "POST")).status).toBe(401);
    expect(h.engine.executed).toEqual([]);
    const ok = await call(`${h.url}api/state`, "GET", { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    // health answers watchdogs without detail, and with detail when authenticated
    expect((await call(`${h.url}api/health`)).json).toEqual({ status: "ok" });
    expect((await call(`${h.url}api/health`, "GET", { authorization: `Bearer ${TOKEN}` })).json).toMatchObject({
      accounts: [{ id: "main" }, { id: "family" }],
    });
  });

  it("sends browsers to /login, which sets an HttpOnly SameSite=Strict cookie not holding the token", async () => {
    const lines: string[] = [];
    h = await startHarness({ http: { host: "0.0.0.0", auth_token: TOKEN }, logger: captureLogger(lines) });
    const page = await call(`${h.url}mfa`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/login");
    const login = await call(`${h.url}login`);
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="token"');
    expect(login.text).toContain("hidden data-error");

    const form = { "content-type": "application/x-www-form-urlencoded" };
    const wrong = await call(`${h.url}login`, "POST", form, "token=nope");
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain("hidden data-error");
    expect(wrong.headers["set-cookie"]).toBeUndefined();

    const right = await call(`${h.url}login`, "POST", form, `token=${encodeURIComponent(TOKEN)}`);
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe("/");
    const cookie = String(right.headers["set-cookie"]);
    expect(cookie).toMatch(/^icloud2mqtt_auth=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const value = cookie.split(";")[0] ?? "";
    expect((await call(`${h.url}api/state`, "GET", { cookie: value })).status).toBe(200);
    expect((await call(`${h.url}mfa`, "GET", { cookie: `other=1; ${value}` })).status).toBe(200);
    expect((await call(`${h.url}api/state`, "GET", { cookie: `${value.slice(0, -2)}AA` })).status).toBe(401);

    const logout = await call(`${h.url}logout`, "POST", { cookie: value });
    expect(String(logout.headers["set-cookie"])).toMatch(/Max-Age=0/);
    expect(lines.join("\n")).not.toContain(TOKEN);
  });

  it("still requires a configured token on loopback", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    expect((await call(`${h.url}api/state`)).status).toBe(401);
    expect((await call(`${h.url}api/state`, "GET", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe("cross-site requests", () => {
  it("rejects foreign origins and allows same-origin and non-browser POSTs", async () => {
    h = await startHarness();
    const host = new URL(h.url).host;
    const sync = (headers: Record<string, string>) => call(`${h?.url}api/sync`, "POST", headers);
    expect(await sync({ origin: "https://evil.example" })).toMatchObject({
      status: 403,
      json: { message: "Cross-site request refused" },
    });
    expect((await sync({ origin: "null" })).status).toBe(403);
    expect((await sync({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await sync({ "sec-fetch-site": "same-site", origin: `http://${host}` })).status).toBe(403);
    expect(h.engine.executed).toEqual([]);
    expect((await sync({ origin: `http://${host}` })).status).toBe(200);
    expect((await sync({ origin: "https://ha.example", "x-forwarded-host": "ha.example" })).status).toBe(200);
    expect((await sync({})).status).toBe(200);
    expect(h.engine.executed).toHaveLength(3);
    // a cross-site login attempt is refused too
    expect((await call(`${h.url}login`, "POST", { origin: "https://evil.example" })).status).toBe(403);
  });
});

describe("DNS rebinding: the Host check when no token is set", () => {
  const refused = { status: 421, json: { message: expect.stringMatching(/allowed_hosts/) } };

  it("refuses a foreign Host on GET and POST, whatever else the request says", async () => {
    h = await startHarness();
    h.engine.setState("main", blockedState("main"));
    const { port } = new URL(h.url);
    for (const host of [
      "evil.example",
      `evil.example:${port}`,
      "127.0.0.1.evil.example",
      "localhost.evil.example",
      "localhost:80@evil.example",
      "evil_example",
    ]) {
      const headers = { host };
      expect(await call(`${h.url}api/state`, "GET", headers), host).toMatchObject(refused);
      expect(await call(`${h.url}`, "GET", headers), host).toMatchObject(refused);
      expect(await call(`${h.url}api/reauthenticate`, "POST", headers), host).toMatchObject(refused);
      expect(await call(`${h.url}api/mfa?code=${GOOD_CODE}`, "POST", headers), host).toMatchObject(refused);
      // a rebound page is same-origin: it can add these headers, they do not help
      const sneaky = {
        ...headers,
        origin: `http://${host}`,
        "sec-fetch-site": "same-origin",
        "x-ingress-path": "/api/hassio_ingress/x",
        "x-forwarded-host": "localhost",
      };
      expect(await call(`${h.url}api/sync`, "POST", sneaky), host).toMatchObject(refused);
      expect(await call(`${h.url}api/state`, "GET", sneaky), host).toMatchObject(refused);
    }
    expect(h.engine.executed).toEqual([]);
    const body = (await call(`${h.url}api/state`, "GET", { host: "evil.example" })).text;
    expect(body).not.toContain("main");
  });

  it("answers loopback names (any case, with or without a port) and IP addresses", async () => {
    h = await startHarness();
    const { port } = new URL(h.url);
    for (const host of [
      "localhost",
      `localhost:${port}`,
      `LocalHost:${port}`,
      "localhost.",
      "127.0.0.1",
      `127.0.0.1:${port}`,
      "[::1]",
      `[::1]:${port}`,
      "192.168.1.20:8723", // an IP literal involves no DNS: not a rebinding vector
      "[fd00::20]",
    ]) {
      expect((await call(`${h.url}api/state`, "GET", { host })).status, host).toBe(200);
      expect((await call(`${h.url}api/sync`, "POST", { host, origin: `http://${host}` })).status, host).toBe(200);
    }
  });

  it("answers the names in http.allowed_hosts (Home Assistant ingress: the add-on's host name)", async () => {
    h = await startHarness({ http: { allowed_hosts: ["local-icloud2mqtt", "Photos.Example"] } });
    const ingress = { "x-ingress-path": "/api/hassio_ingress/AbC-123" };
    for (const host of ["local-icloud2mqtt", "local-icloud2mqtt:8099", "LOCAL-ICLOUD2MQTT", "photos.example:443"]) {
      const page = await call(`${h.url}mfa`, "GET", { host, ...ingress });
      expect(page.status, host).toBe(200);
      expect(page.text).toContain('<base href="/api/hassio_ingress/AbC-123/">');
      expect((await call(`${h.url}api/state`, "GET", { host })).status, host).toBe(200);
      expect((await call(`${h.url}api/reauthenticate`, "POST", { host, ...ingress })).status, host).toBe(200);
    }
    expect(await call(`${h.url}api/state`, "GET", { host: "other-addon" })).toMatchObject(refused);
    expect(await call(`${h.url}api/state`, "GET", { host: "icloud2mqtt" })).toMatchObject(refused);
  });

  it("needs no Host check with a token: a rebound page cannot authenticate", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    const evil = { host: "evil.example" };
    expect(await call(`${h.url}api/state`, "GET", evil)).toMatchObject({ status: 401 });
    expect(await call(`${h.url}api/reauthenticate`, "POST", evil)).toMatchObject({ status: 401 });
    expect(h.engine.executed).toEqual([]);
    // any name works for a client holding the token (reverse proxies need no allow-list)
    const ok = await call(`${h.url}api/state`, "GET", { ...evil, authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
  });
});

describe("MFA rate limit", () => {
  it("allows mfa_attempts_per_minute codes per account, then 429 with Retry-After", async () => {
    h = await startHarness({ http: { mfa_attempts_per_minute: 3 } });
    h.engine.setState("main", blockedState("main"));
    h.engine.setState("family", blockedState("family"));
    for (let i = 0; i < 3; i++) expect((await call(`${h.url}api/mfa?code=11111${i}`, "POST")).status).toBe(400);
    const limited = await call(`${h.url}api/mfa?code=${GOOD_CODE}`, "POST");
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ message: expect.stringMatching(/Too many/) });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(h.engine.executed).toHaveLength(3);
    expect((await call(`${h.url}api/mfa?account=family&code=${GOOD_CODE}`, "POST")).status).toBe(200);
  });
});

describe("robustness", () => {
  it("limits the request body size", async () => {
    h = await startHarness();
    const big = JSON.stringify({ endpoint: "https://x.example/", pad: "x".repeat(20_000) });
    const res = await call(`${h.url}api/subscribe`, "POST", { "content-type": "application/json" }, big);
    expect(res).toMatchObject({ status: 413, json: { message: "Request body too large" } });
  });

  it("survives malformed requests", async () => {
    h = await startHarness();
    const { port } = new URL(h.url);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), "127.0.0.1", () => socket.end(text));
        let out = "";
        socket.on("data", (d) => {
          out += d.toString();
        });
        socket.on("close", () => resolve(out));
        socket.on("error", () => resolve(out));
      });
    expect(await raw("GARBAGE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw("GET http://evil/api/state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 400/,
    );
    expect(await raw("GET /api/state?account=%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")).toMatch(
      /^HTTP\/1\.1 (200|404)/,
    );
    expect((await call(`${h.url}api/state?account=%ff%fe`)).status).toBe(404);
    expect((await call(`${h.url}api/resend_mfa?method[]=sms`, "POST")).status).toBe(412);
    expect((await call(`${h.url}api/state`)).status).toBe(200);
  });

  it("never logs the code or the query string", async () => {
    const lines: string[] = [];
    h = await startHarness({ logger: captureLogger(lines), http: { mfa_attempts_per_minute: 2 } });
    h.engine.setState("main", blockedState("main"));
    await call(`${h.url}api/mfa?code=${GOOD_CODE}`, "POST");
    h.engine.setState("main", blockedState("main"));
    h.engine.failNext.mfa = new EngineError("STORE_FAILED", "disk full");
    await call(`${h.url}api/mfa?code=${GOOD_CODE}`, "POST");
    await call(`${h.url}api/mfa?code=${GOOD_CODE}`, "POST");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(GOOD_CODE);
  });
});

describe("base path and Home Assistant ingress", () => {
  it("serves everything under base_path /icloud/", async () => {
    h = await startHarness({ http: { base_path: "/icloud/" } });
    expect(h.url).toMatch(/\/icloud\/$/);
    const origin = new URL(h.url).origin;
    expect((await call(`${origin}/icloud/api/state`)).status).toBe(200);
    expect((await call(`${origin}/icloud/api/sync`, "POST")).status).toBe(200);
    expect((await call(`${origin}/icloud/manifest.webmanifest`)).status).toBe(200);
    expect((await call(`${origin}/api/state`)).status).toBe(404);
    expect((await call(`${origin}/icloudx/api/state`)).status).toBe(404);
    const bare = await call(`${origin}/icloud?account=main`);
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe("/icloud/?account=main");
    const page = await call(`${origin}/icloud/`);
    expect(page.text).toContain('<base href="/icloud/">');
    expect(page.text).not.toMatch(/(href|src)="\/(?!icloud\/)/);
  });

  it("uses X-Ingress-Path for the base href and login redirect", async () => {
    h = await startHarness({ http: { host: "0.0.0.0", auth_token: TOKEN } });
    const ingress = { "x-ingress-path": "/api/hassio_ingress/AbC-123" };
    const auth = { authorization: `Bearer ${TOKEN}` };
    const page = await call(`${h.url}mfa`, "GET", { ...ingress, ...auth });
    expect(page.text).toContain('<base href="/api/hassio_ingress/AbC-123/">');
    const login = await call(`${h.url}`, "GET", ingress);
    expect(login.headers.location).toBe("/api/hassio_ingress/AbC-123/login");
    const evil = await call(`${h.url}`, "GET", { "x-ingress-path": '/x"><script>alert(1)</script>', ...auth });
    expect(evil.text).toContain('<base href="/">');
    expect(evil.text).not.toContain("alert(1)");
  });
});
