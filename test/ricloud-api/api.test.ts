import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RicloudApiSchema } from "../../src/config/ricloud-api-schema.ts";
import { KeyStore } from "../../src/ricloud-api/key-store.ts";
import { passwordVerifier } from "../../src/ricloud-api/passwords.ts";
import { RicloudApiServer } from "../../src/ricloud-api/server.ts";
import { FakeEngine } from "../../src/testing/fake-engine.ts";
import { fakeAccountState } from "../../src/testing/fixtures.ts";
import { type RicloudClient, ricloudClient } from "../support/ricloud.ts";

let dir: string;
let server: RicloudApiServer;
let client: RicloudClient;
let keys: KeyStore;
const engine = new FakeEngine([{ id: "main", username: "main@example.com" }]);

function newServer(options: Record<string, unknown> = {}): RicloudApiServer {
  return new RicloudApiServer({
    api: engine,
    config: RicloudApiSchema.parse({ enabled: true, port: 0, ...options }),
    stateDir: dir,
    verifyPassword: passwordVerifier([{ id: "main", password: "pw" }]),
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "i2m-ricloud-api-"));
  keys = new KeyStore(dir);
  const { token } = await keys.create("api tests");
  server = newServer();
  client = ricloudClient((await server.start()).url, token);
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("ricloud API: authentication", () => {
  it("answers 401 with ricloud's error body without a key, with another scheme or an unknown key", async () => {
    for (const [headers, error] of [
      [{}, "authentication-required"],
      [{ authorization: `Bearer ${client.token}` }, "authentication-required"],
      [{ authorization: "Token ric_unknownunknownunknownunknownunknownunknown1" }, "invalid-key"],
    ] as const) {
      const answer = await client.request("GET", "/organisation", { token: null, headers });
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error, message: expect.any(String), params: {} });
      expect(answer.headers.get("www-authenticate")).toBe('Token realm="icloud2mqtt"');
    }
    // Unknown paths need a key too (nothing about the API leaks to strangers).
    expect((await client.request("GET", "/nothing-here", { token: null })).status).toBe(401);
  });

  it("accepts a key created while running, refuses it once revoked", async () => {
    const { key, token } = await keys.create("second");
    const second = ricloudClient(client.url, token);
    expect((await second.request("GET", "/key")).json).toMatchObject({
      id: key.id,
      resource: "key",
      organisation: "1",
      name: "second",
      type: "standard",
      prefix: token.slice(0, 10),
      state: "active",
      storage_config: null,
      webhook_config: null,
      date_expires: null,
    });
    await keys.revoke(key.id);
    expect((await second.request("GET", "/key")).json.error).toBe("invalid-key");
    const listed = await client.request("GET", "/keys");
    expect(listed.json.data.map((k: { id: string; state: string }) => [k.id, k.state])).toEqual([
      [key.id, "revoked"],
      ["1", "active"],
    ]);
  });

  it("stores keys hashed, 0600 in a 0700 folder; never the key itself", async () => {
    const file = await readFile(keys.file, "utf8");
    expect(file).not.toContain(client.token);
    expect(file).toContain(client.token.slice(0, 10));
    expect((await stat(keys.file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "ricloud"))).mode & 0o777).toBe(0o700);
  });

  it("limits failed authentications per client address (429 with Retry-After)", async () => {
    let answer = await client.request("GET", "/key", { token: "wrong" });
    for (let i = 0; i < 25 && answer.status === 401; i++)
      answer = await client.request("GET", "/key", { token: "wrong" });
    expect(answer.status).toBe(429);
    expect(answer.json.error).toBe("limit-exceeded");
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    // A valid key still works.
    expect((await client.request("GET", "/key")).status).toBe(200);
  });
});

describe("ricloud API: requests", () => {
  it("404 and 405 (with Allow) as JSON errors; bodies must be JSON objects", async () => {
    expect(await client.request("GET", "/nothing-here")).toMatchObject({ status: 404, json: { error: "not-found" } });
    const wrong = await client.request("DELETE", "/users");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST, GET");
    for (const body of ["{nope", "[1,2]", '"text"']) {
      const answer = await fetch(new URL("users", client.url), {
        method: "POST",
        headers: { authorization: `Token ${client.token}` },
        body,
      });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ error: "invalid-body" });
    }
    const big = await client.request("POST", "/users", { body: { identifier: "x".repeat(70_000) } });
    expect(big).toMatchObject({ status: 413, json: { error: "invalid-body" } });
    const bad = await client.request("POST", "/users", { body: { identifier: 42 } });
    expect(bad).toMatchObject({
      status: 400,
      json: { error: "invalid-parameter", params: { identifier: expect.any(String) } },
    });
  });

  it("refuses state-changing requests from other sites' pages", async () => {
    const answer = await client.request("POST", "/users", {
      body: { identifier: "cross" },
      headers: { origin: "https://evil.example" },
    });
    expect(answer).toMatchObject({ status: 403, json: { error: "cross-site" } });
  });

  it("lists newest first with cursor pagination: limit, after_id, before_id, has_more, total_count", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      ids.push((await client.request("POST", "/users", { body: { identifier: `page-${i}` } })).json.id);
    }
    const all = (await client.request("GET", "/users?limit=1000")).json;
    const total = all.total_count as number;
    const newest = all.data.map((u: { id: string }) => u.id);
    expect(newest.slice(0, 25)).toEqual([...ids].reverse());

    const first = (await client.request("GET", "/users")).json;
    expect(first).toMatchObject({ resource: "list", has_more: true, total_count: total, url: "/users" });
    expect(first.data.map((u: { id: string }) => u.id)).toEqual(newest.slice(0, 10));
    const next = (await client.request("GET", `/users?limit=10&after_id=${newest[9]}`)).json;
    expect(next.data.map((u: { id: string }) => u.id)).toEqual(newest.slice(10, 20));
    const last = (await client.request("GET", `/users?limit=10&after_id=${newest[total - 4]}`)).json;
    expect(last).toMatchObject({ has_more: false });
    expect(last.data).toHaveLength(3);
    const back = (await client.request("GET", `/users?limit=5&before_id=${newest[12]}`)).json;
    expect(back.data.map((u: { id: string }) => u.id)).toEqual(newest.slice(7, 12));
    expect(back.has_more).toBe(true);
    const top = (await client.request("GET", `/users?limit=5&before_id=${newest[3]}`)).json;
    expect(top).toMatchObject({ has_more: false });
    expect(top.data).toHaveLength(3);
    const filteredList = (await client.request("GET", "/users?identifier=page-7")).json;
    expect(filteredList.data.map((u: { id: string }) => u.id)).toEqual([ids[7]]);

    for (const query of [
      "limit=0",
      "limit=1001",
      "limit=ten",
      "after_id=nope",
      `after_id=${ids[0]}&before_id=${ids[1]}`,
    ]) {
      const answer = await client.request("GET", `/users?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json.error, query).toBe("invalid-parameter");
    }
  });

  it("updates by POST to the instance URL (ricloud-py's update), refuses keys and rotation over the API", async () => {
    const user = (await client.request("POST", "/users", { body: { identifier: "to-rename" } })).json;
    const renamed = await client.request("POST", `/users/${user.id}`, {
      body: { identifier: "renamed", state: "deactivated" },
    });
    expect(renamed.json).toMatchObject({ id: user.id, identifier: "renamed", state: "deactivated" });
    expect((await client.request("GET", `/users/${user.id}`)).json.identifier).toBe("renamed");
    expect((await client.request("POST", "/organisation", { body: { name: "Home" } })).json).toMatchObject({
      name: "Home",
      slug: "home",
    });
    const badKey = await client.request("POST", "/keys/1", { body: { webhook_config: "99" } });
    expect(badKey.json).toMatchObject({ error: "invalid-parameter", params: { webhook_config: "no such config" } });
    expect((await client.request("POST", "/keys", { body: {} })).json.error).toBe("missing-scope");
    expect((await client.request("POST", "/keys/1/rotate", { body: {} })).json.error).toBe("missing-scope");
  });

  it("storage configs: local:// folders inside the state folder only", async () => {
    const created = await client.request("POST", "/configs/storage", { body: { url: "local://exports" } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: "2",
      resource: "storage_config",
      organisation: "1",
      type: "local",
      url: `local://${join(dir, "ricloud", "exports")}`,
      state: "valid",
      date_created: expect.any(String),
    });
    for (const url of ["local:///etc", "local://../escape", "s3://Not_A_Bucket/x", "gs://bucket"]) {
      const answer = await client.request("POST", "/configs/storage", { body: { url } });
      expect(answer.status, url).toBe(400);
      expect(answer.json.params, url).toHaveProperty("url");
    }
    const noKeys = await client.request("POST", "/configs/storage", { body: { url: "s3://bucket/prefix" } });
    expect(noKeys.json).toMatchObject({ error: "invalid-parameter", params: { credentials: expect.any(String) } });
    const key = await client.request("POST", "/keys/1", { body: { storage_config: "2" } });
    expect(key.json.storage_config).toBe("2");
    await client.request("POST", "/keys/1", { body: { storage_config: null } });
    const test = await client.request("POST", "/configs/storage/2/test");
    expect(test.json).toMatchObject({ resource: "task", type: "test", target: "storage_config:2", state: "succeeded" });
    const removed = await client.request("DELETE", "/configs/storage/2");
    expect(removed.json.state).toBe("deactivated");
    expect((await client.request("GET", "/configs/storage/2")).status).toBe(404);
  });

  it("keeps resources across restarts (0600 file), ids continue", async () => {
    const before = (await client.request("GET", "/users?limit=1")).json;
    await server.stop();
    expect((await stat(join(dir, "ricloud", "api.json"))).mode & 0o777).toBe(0o600);
    server = newServer();
    client = ricloudClient((await server.start()).url, client.token);
    const after = (await client.request("GET", "/users?limit=1")).json;
    expect(after.data).toEqual(before.data);
    const next = await client.request("POST", "/users", { body: { identifier: "after-restart" } });
    expect(Number(next.json.id)).toBe(Number(before.data[0].id) + 1);
  });

  it("sets an unreadable state file aside and starts empty", async () => {
    await server.stop();
    await writeFile(join(dir, "ricloud", "api.json"), "{ not json");
    server = newServer();
    client = ricloudClient((await server.start()).url, client.token);
    expect((await client.request("GET", "/users")).json.total_count).toBe(0);
  });
});

describe("ricloud API: sessions on a fake engine", () => {
  it("a code goes to the engine's mfa command; code attempts are limited per account (429)", async () => {
    engine.setState("main", fakeAccountState("main", { awaiting: "code" }));
    const user = (await client.request("POST", "/users", { body: { identifier: "codes" } })).json;
    const attempt = (code: string) =>
      client.request("POST", "/sessions", {
        body: {
          source: { user: user.id, type: "icloud.account", identifier: "main@example.com" },
          payload: { password: "pw", code },
        },
        headers: { "Ricloud-Await": "5" },
      });
    const before = engine.executed.length;
    const wrong = await attempt("654321");
    expect(wrong.json).toMatchObject({ state: "failed", error: "code-invalid" });
    expect(engine.executed.slice(before)).toEqual([{ command: "mfa", input: { account: "main", code: "654321" } }]);
    for (let i = 0; i < 3; i++) expect((await attempt("654321")).status).toBe(201);
    expect((await attempt("123456")).json).toMatchObject({ state: "active" });
    const limited = await attempt("123456");
    expect(limited).toMatchObject({ status: 429, json: { error: "limit-exceeded" } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(engine.executed.filter((e) => e.command === "mfa")).toHaveLength(5);
  });
});

describe("ricloud API: listening", () => {
  it("refuses a non-loopback address without TLS unless allowed, in the config and in the server", () => {
    expect(RicloudApiSchema.safeParse({ enabled: true, host: "0.0.0.0" }).success).toBe(false);
    expect(RicloudApiSchema.safeParse({ enabled: true, host: "0.0.0.0", allow_insecure: true }).success).toBe(true);
    expect(RicloudApiSchema.safeParse({ enabled: true, host: "0.0.0.0", tls_cert: "c.pem" }).success).toBe(false);
    expect(() => newServer({ host: "0.0.0.0", allow_insecure: false })).toThrow(/not a loopback address/);
    expect(() => newServer({ host: "0.0.0.0", allow_insecure: true })).not.toThrow();
  });

  it("serves HTTPS with tls_cert and tls_key", async () => {
    const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
      keySize: 2048,
      algorithm: "sha256",
      extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
    });
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    await writeFile(cert, pems.cert);
    await writeFile(key, pems.private);
    const tls = newServer({ tls_cert: cert, tls_key: key });
    const { url } = await tls.start();
    try {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      const answer = await undiciFetch(new URL("key", url), {
        headers: { authorization: `Token ${client.token}` },
        dispatcher: new Agent({ connect: { ca: pems.cert } }),
      });
      expect(answer.status).toBe(200);
    } finally {
      await tls.stop();
    }
  });
});
