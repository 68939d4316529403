import { request as httpRequest } from "node:http";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultMatches } from "../../src/simulator/faults.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { TEST_SCENARIO, TestClient } from "../support/idmsa-client.ts";

let sim: SimulatorHandle;
const init = (client: TestClient) =>
  client.request("POST", "/appleauth/auth/signin/init", {
    json: { a: Buffer.from([5]).toString("base64"), accountName: "jane@example.com", protocols: ["s2k"] },
  });

/** Raw request: what happens on the socket (for reset/truncated). */
function raw(path: string): Promise<{ status?: number; error?: string; body: string }> {
  const url = new URL(path, sim.url);
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "POST", headers: { "Content-Type": "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", (error) => resolve({ status: res.statusCode ?? 0, error: error.message, body }));
    });
    req.on("error", (error) => resolve({ error: error.message, body: "" }));
    req.end("{}");
  });
}

beforeAll(async () => {
  sim = await startSimulator({ scenario: TEST_SCENARIO });
});
afterAll(async () => {
  await sim.close();
});

describe("fault injection", () => {
  it("unavailable: 503 text/plain, only `times` times", async () => {
    sim.faults.add({ endpoint: "idmsa.signin.init", kind: "unavailable", times: 2 });
    const client = new TestClient(sim.url);
    for (let i = 0; i < 2; i++) {
      const answer = await init(client);
      expect(answer.status).toBe(503);
      expect(answer.text).toBe("Service Temporarily Unavailable");
      expect(answer.headers.get("content-type")).toContain("text/plain");
    }
    expect((await init(client)).status).toBe(200);
    expect(sim.faults.list()).toHaveLength(0);
  });

  it("status with a JSON body, rate_limit with Retry-After, malformed JSON", async () => {
    const client = new TestClient(sim.url);
    sim.faults.add({
      endpoint: "idmsa.signin.init",
      kind: "status",
      status: 403,
      body: { serviceErrors: [{ code: "-20209" }] },
      times: 1,
    });
    const status = await init(client);
    expect(status.status).toBe(403);
    sim.faults.add({
      endpoint: "idmsa.signin.init",
      kind: "status",
      status: 400,
      headers: { "X-Apple-I-Ercd": "-21669" },
      times: 1,
    });
    const withHeader = await init(client);
    expect(withHeader.status).toBe(400);
    expect(withHeader.headers.get("x-apple-i-ercd")).toBe("-21669");
    expect(status.json).toEqual({ serviceErrors: [{ code: "-20209" }] });
    sim.faults.add({ endpoint: "*", kind: "rate_limit", retry_after: 7, times: 1 });
    const limited = await client.request("POST", "/setup/ws/1/validate", { body: "null" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    sim.faults.add({ endpoint: "setup.validate", kind: "malformed", times: 1 });
    const malformed = await client.request("POST", "/setup/ws/1/validate", { body: "null" });
    expect(malformed.status).toBe(200);
    expect(() => JSON.parse(malformed.text)).toThrow();
  });

  it("latency delays the normal answer", async () => {
    sim.faults.add({ endpoint: "setup.validate", kind: "latency", delay_ms: 150, times: 1 });
    const started = Date.now();
    const answer = await new TestClient(sim.url).request("POST", "/setup/ws/1/validate", { body: "null" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(answer.status).toBe(421);
  });

  it("reset destroys the socket; truncated sends less than Content-Length", async () => {
    sim.faults.add({ endpoint: "setup.accountLogin", kind: "reset", times: 1 });
    const reset = await raw("/setup/ws/1/accountLogin");
    expect(reset.error).toBeDefined();
    sim.faults.add({ endpoint: "setup.accountLogin", kind: "truncated", times: 1 });
    const truncated = await raw("/setup/ws/1/accountLogin");
    expect(truncated.status).toBe(200);
    expect(truncated.error).toBeDefined();
    const log = sim.requests().filter((entry) => entry.route === "setup.accountLogin");
    expect(log.map((entry) => entry.status)).toEqual(["reset", 200]);
  });
});

describe("short_body", () => {
  it("sends the normal answer's first bytes (default half) with a matching Content-Length", async () => {
    const page = "/appleauth/auth/authorize/signin";
    const get = () => new TestClient(sim.url).request("GET", page, { widget: false });
    const full = await get();
    expect(full.status).toBe(200);
    expect(full.text.length).toBeGreaterThan(10);
    sim.faults.add({ endpoint: "idmsa.authorize", kind: "short_body", bytes: 7, times: 1 });
    const cut = await get();
    expect(cut.status).toBe(200);
    expect(cut.text).toBe(full.text.slice(0, 7));
    expect(cut.headers.get("content-length")).toBe("7");
    expect(cut.headers.get("content-type")).toBe(full.headers.get("content-type"));
    sim.faults.add({ endpoint: "idmsa.authorize", kind: "short_body", times: 1 });
    expect((await get()).text).toBe(full.text.slice(0, Math.floor(full.text.length / 2)));
    expect((await get()).text).toBe(full.text);
  });
});

describe("fault matching", () => {
  it("matches exact ids, * and prefixes", () => {
    expect(faultMatches("*", "fmip.refreshClient")).toBe(true);
    expect(faultMatches("idmsa.*", "idmsa.signin.init")).toBe(true);
    expect(faultMatches("idmsa.*", "setup.validate")).toBe(false);
    expect(faultMatches("setup.validate", "setup.validate")).toBe(true);
    expect(faultMatches("setup.valid", "setup.validate")).toBe(false);
  });
});

describe("admin API", () => {
  it("adds, lists and clears faults; validates bodies", async () => {
    const admin = new TestClient(sim.url);
    const added = await admin.request("POST", "/__sim/faults", {
      json: { endpoint: "idmsa.trust", kind: "unavailable" },
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ endpoint: "idmsa.trust", kind: "unavailable", id: expect.any(Number) });
    expect((await admin.request("GET", "/__sim/faults")).json["faults"]).toHaveLength(1);
    expect((await admin.request("POST", "/__sim/faults", { json: { endpoint: "x", kind: "explode" } })).status).toBe(
      400,
    );
    expect((await admin.request("DELETE", "/__sim/faults")).status).toBe(204);
    expect((await admin.request("GET", "/__sim/faults")).json["faults"]).toHaveLength(0);
  });

  it("moves the clock, shows codes and stats, lists requests without bodies", async () => {
    const admin = new TestClient(sim.url);
    const before = sim.clock.now();
    expect((await admin.request("POST", "/__sim/clock", { json: { advance: "1h" } })).status).toBe(200);
    expect(sim.clock.now() - before).toBeGreaterThanOrEqual(3_600_000);
    expect((await admin.request("POST", "/__sim/clock", { json: { advance: 1000 } })).status).toBe(200);
    expect((await admin.request("POST", "/__sim/clock", { json: { advance: "soon" } })).status).toBe(400);

    const id = encodeURIComponent("bridge@example.com");
    expect((await admin.request("GET", `/__sim/accounts/${id}/code`)).status).toBe(404);
    const client = new TestClient(sim.url);
    expect((await client.signIn("bridge@example.com", "bridge-password")).status).toBe(409);
    await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
    const code = await admin.request("GET", `/__sim/accounts/${id}/code`);
    expect(code.json).toMatchObject({
      code: expect.stringMatching(/^\d{6}$/),
      channel: "device",
      sent_at: expect.any(String),
    });
    const stats = await admin.request("GET", `/__sim/accounts/${id}/stats`);
    expect(stats.json).toMatchObject({ signin_init: 1, srp_signins: 1, codes_sent: { device: 1 } });
    expect((await admin.request("GET", "/__sim/accounts/nobody%40x/stats")).status).toBe(404);

    const requests = (await admin.request("GET", "/__sim/requests")).json["requests"] as Record<string, unknown>[];
    expect(requests.length).toBeGreaterThan(0);
    for (const entry of requests)
      expect(Object.keys(entry).sort()).toEqual(["at", "method", "path", "route", "seq", "status"]);
    expect(requests.some((entry) => String(entry["path"]).startsWith("/__sim"))).toBe(false);
  });
});

describe("scenario faults and TLS", () => {
  it("applies scenario faults and serves HTTPS with a certificate the client can trust", async () => {
    const tls = await startSimulator({
      scenario: {
        partition: 42,
        phone_list_layout: "legacy",
        strict: false,
        faults: [{ endpoint: "idmsa.signin.init", kind: "unavailable", times: 1 }],
        accounts: [
          {
            apple_id: "solo@example.com",
            password: "pw",
            srp: { protocol: "s2k", iterations: 1000 },
            country: "FRA",
            last_name: "Solo",
            mfa: {
              kind: "none",
              trusted_devices: [],
              trusted_phone_numbers: [],
              devices_2sv: [],
              max_wrong_codes: 5,
              max_code_sends: 10,
            },
            locked: false,
            repair_needed: false,
            web_access_disabled: false,
            security_key: false,
            lifetimes: { trust_token: 1000, web_session: 1000, validate_token: 1000, session_token: 1000 },
          },
        ],
      },
      tls: true,
    });
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(tls.tls?.ca).toContain("BEGIN CERTIFICATE");
      const dispatcher = new Agent({ connect: { ca: tls.tls!.ca } });
      const client = new TestClient(tls.url, dispatcher);
      expect((await client.signIn("solo@example.com", "pw")).status).toBe(503);
      const ok = await client.signIn("solo@example.com", "pw");
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-apple-id-account-country")).toBe("FRA");
      const login = await client.accountLogin();
      expect(login.json).toMatchObject({ userPartition: 42 });
      expect(login.headers.getSetCookie().every((line) => line.includes("Secure"))).toBe(true);
      await dispatcher.close();
    } finally {
      await tls.close();
    }
  });
});
