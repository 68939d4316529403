import { Agent, request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness, TOKEN } from "../support/http.ts";

let h: Harness | undefined;
const agents: Agent[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const agent of agents.splice(0)) await agent.close();
});

/** A request from a given loopback address (127.0.0.x are all this machine on Linux). */
async function from(
  address: string,
  url: string,
  method: "GET" | "POST",
  headers: Record<string, string>,
  body?: string,
) {
  const agent = new Agent({ localAddress: address });
  agents.push(agent);
  const res = await request(url, { method, headers, dispatcher: agent, ...(body === undefined ? {} : { body }) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const login = (address: string, token: string) =>
  from(address, `${h?.url}login`, "POST", FORM, `token=${encodeURIComponent(token)}`);

describe("X-Ingress-Path", () => {
  it("accepts only a path: a protocol-relative or dot-segment value never becomes the base href or a redirect", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const value of [
      "//evil.example",
      "//evil.example/x",
      "/a//evil.example",
      "/api/../evil",
      "/./x",
      "/\\evil.example",
    ]) {
      const page = await from("127.0.0.1", `${h.url}mfa`, "GET", { "x-ingress-path": value, ...auth });
      expect(page.status, value).toBe(200);
      expect(page.text, value).toContain('<base href="/">');
      expect(page.text, value).not.toContain("evil");
      const redirect = await from("127.0.0.1", `${h.url}`, "GET", { "x-ingress-path": value });
      expect(redirect.headers.location, value).toBe("/login");
    }
    const good = await from("127.0.0.1", `${h.url}`, "GET", { "x-ingress-path": "/api/hassio_ingress/AbC-1.2_~" });
    expect(good.headers.location).toBe("/api/hassio_ingress/AbC-1.2_~/login");
  });
});

describe("web login limiter", () => {
  it("counts wrong tokens per client address: ten from one address do not lock out the owner elsewhere", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    for (let i = 0; i < 10; i++) expect((await login("127.0.0.1", `wrong-${i}`)).status).toBe(401);
    const limited = await login("127.0.0.1", "wrong-again");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    const owner = await login("127.0.0.2", TOKEN);
    expect(owner.status).toBe(303);
    expect(String(owner.headers["set-cookie"])).toMatch(/^icloud2mqtt_auth=/);
    // The right token does not count as a failure.
    for (let i = 0; i < 12; i++) expect((await login("127.0.0.3", TOKEN)).status).toBe(303);
  });

  it("a limited address gets the right token through as soon as its wrong ones expire, however often it kept trying", async () => {
    h = await startHarness({ http: { auth_token: TOKEN }, loginLimit: { attempts: 3, windowMs: 1_000 } });
    for (let i = 0; i < 3; i++) expect((await login("127.0.0.1", "wrong")).status).toBe(401);
    const started = Date.now();
    // Keep hammering with wrong tokens while limited: refused, and not counted.
    while (Date.now() - started < 1_200) {
      expect((await login("127.0.0.1", "wrong")).status).toBe(429);
      await new Promise((r) => setTimeout(r, 100));
      if (Date.now() - started > 900) break;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 1_100 - (Date.now() - started))));
    expect((await login("127.0.0.1", TOKEN)).status).toBe(303);
  });
});
