import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanUp, type TestAccount } from "../support/harness.ts";
import { type RicloudClient, ricloudHarness } from "../support/ricloud.ts";

const ACCESS_KEY = "AKIDTESTRICLOUD";
const SECRET = "s3-test-secret-key/with+chars";
const REGION = "eu-test-1";

/**
 * An S3-compatible server holding objects in memory that checks AWS Signature Version 4 as AWS
 * documents it, written independently here: the canonical request (method, the path as sent, empty
 * query, the signed headers, the payload hash), the string to sign, the signing key chain
 * (date → region → "s3" → "aws4_request"), and the payload hash against the body.
 */
function sigV4Valid(req: IncomingMessage, body: Buffer, secret: string): boolean {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? "",
    );
  if (!auth) return false;
  const [, keyId, day, region, signed, signature] = auth;
  const payloadHash = String(req.headers["x-amz-content-sha256"]);
  if (keyId !== ACCESS_KEY || payloadHash !== createHash("sha256").update(body).digest("hex")) return false;
  const names = (signed ?? "").split(";");
  const amzDate = String(req.headers["x-amz-date"]);
  if (!amzDate.startsWith(day ?? "x") || !names.includes("host")) return false;
  const canonical = [
    req.method,
    (req.url ?? "").split("?")[0],
    "",
    ...names.map((name) => `${name}:${String(req.headers[name]).trim()}`),
    "",
    signed,
    payloadHash,
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
  let key: Buffer = createHmac("sha256", `AWS4${secret}`)
    .update(day ?? "")
    .digest();
  for (const part of [region ?? "", "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  return createHmac("sha256", key).update(toSign).digest("hex") === signature;
}

const objects = new Map<string, Buffer>();
const log: string[] = [];
let s3: Server;
let endpoint: string;
let client: RicloudClient;
let session: string;
const ACCOUNT: TestAccount = { appleId: "s3@example.com", password: "s3-storage-password", code: "808080" };

beforeAll(async () => {
  s3 = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "";
      log.push(`${req.method} ${path}`);
      if (!sigV4Valid(req, body, SECRET)) return void res.writeHead(403).end("<Error>SignatureDoesNotMatch</Error>");
      if (req.method === "PUT") {
        objects.set(path, body);
        return void res.writeHead(200).end();
      }
      if (req.method === "DELETE") {
        objects.delete(path);
        return void res.writeHead(204).end();
      }
      const found = objects.get(path);
      if (found === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { "content-length": String(found.length) }).end(found);
    });
  });
  await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;
  ({ client } = await ricloudHarness({
    account: ACCOUNT,
    id: "s3",
    dirPrefix: "i2m-ricloud-s3-",
    spec: { mfa: { kind: "none" }, calls: { generate: { count: 3, seed: 6 } } },
    settings: { findmy: { enabled: false }, photos: { enabled: false } },
  }));
  const user = await client.request("POST", "/users", { body: { identifier: "s3" } });
  const created = await client.request("POST", "/sessions", {
    body: {
      source: { user: user.json.id, type: "icloud.account", identifier: ACCOUNT.appleId },
      payload: { password: ACCOUNT.password },
    },
    headers: { "Ricloud-Await": "10" },
  });
  session = created.json.id;
}, 60_000);
afterAll(async () => {
  await cleanUp();
  await new Promise<void>((resolve) => s3.close(() => resolve()));
});

describe("ricloud API: S3-compatible storage", () => {
  it("a storage config with wrong keys is invalid; with the right ones results land in the bucket, signed", async () => {
    const wrong = await client.request("POST", "/configs/storage", {
      body: {
        url: "s3://results/icloud2mqtt",
        credentials: { access_key_id: ACCESS_KEY, secret_access_key: "not the secret", region: REGION, endpoint },
      },
    });
    expect(wrong.json).toMatchObject({ type: "s3", state: "invalid" });
    const created = await client.request("POST", "/configs/storage", {
      body: {
        url: "s3://results/icloud2mqtt",
        credentials: { access_key_id: ACCESS_KEY, secret_access_key: SECRET, region: REGION, endpoint },
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: created.json.id,
      resource: "storage_config",
      organisation: "1",
      type: "s3",
      url: "s3://results/icloud2mqtt",
      state: "valid",
      date_created: expect.any(String),
    });
    // Each test wrote a probe (refused for the wrong keys); the valid one removed its probe again.
    expect(log.filter((line) => line.includes("/results/icloud2mqtt/probe/")).map((l) => l.split(" ")[0])).toEqual([
      "PUT",
      "PUT",
      "DELETE",
    ]);
    expect(objects.size).toBe(0);
    expect(JSON.stringify((await client.request("GET", "/organisation")).json)).not.toContain(SECRET);

    await client.request("POST", "/keys/1", { body: { storage_config: created.json.id } });
    const poll = await client.request("POST", "/polls", {
      body: { session, payload: { data_types: ["callkit.calls"] } },
      headers: { "Ricloud-Await": "10" },
    });
    expect(poll.json).toMatchObject({ state: "completed", tasks_failed: [] });
    const [result] = poll.json.results;
    const key = `icloud2mqtt/${poll.json.id}/${result.id}.json`;
    expect(result).toMatchObject({ identifier: "data:callkit.calls", url: `s3://results/${key}` });
    const stored = objects.get(`/results/${key}`);
    expect(stored?.length).toBe(result.size);
    expect(
      createHash("md5")
        .update(stored ?? "")
        .digest("hex"),
    ).toBe(result.checksum);
    expect(JSON.parse(stored?.toString() ?? "{}").data).toHaveLength(3);

    const download = await fetch(new URL(`results/${result.id}/download`, client.url), {
      headers: { authorization: `Token ${client.token}` },
    });
    expect(Buffer.from(await download.arrayBuffer())).toEqual(stored);
    expect((await client.request("POST", `/results/${result.id}/ack`)).json.state).toBe("consumed");
    expect(objects.has(`/results/${key}`)).toBe(false);
  });
});
