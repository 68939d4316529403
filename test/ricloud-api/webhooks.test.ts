import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";
import { type RicloudClient, ricloudHarness } from "../support/ricloud.ts";

/**
 * A webhook receiver on 127.0.0.1 that checks `Ricloud-Signature` the way ricloud-py's signing
 * module does, written independently here: split the header at the first comma into `t=<int>` and
 * `s=<base64>`, HMAC-SHA256 the text "<t>.<raw body>" with the secret, compare in constant time,
 * and reject timestamps older than `delta` seconds (600 by default).
 */
function verifySignature(header: string | undefined, body: string, secret: string, delta = 600): boolean {
  if (header === undefined) return false;
  const comma = header.indexOf(",");
  if (comma < 0) return false;
  const timestamp = Number.parseInt(header.slice(2, comma), 10);
  if (!header.startsWith("t=") || !header.slice(comma + 1).startsWith("s=") || Number.isNaN(timestamp)) return false;
  const given = Buffer.from(header.slice(comma + 3), "base64");
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${timestamp}.${body}`, "utf8").digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  return Math.floor(Date.now() / 1000) - timestamp <= delta;
}

interface Delivery {
  path: string;
  signature: string | undefined;
  contentType: string | undefined;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are asserted field by field
  event: any;
}

const ACCOUNT: TestAccount = { appleId: "hooks@example.com", password: "webhooks-password", code: "000111" };
const deliveries: Delivery[] = [];
/** Answers for the next requests (default 200). */
const answers: number[] = [];
/** How many more times to refuse events of a kind (`poll.created`) with a 500. */
const refuse = new Map<string, number>();
let receiver: Server;
let receiverUrl: string;
let client: RicloudClient;
let secret: string;
let session: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = req.headers["ricloud-signature"];
      deliveries.push({
        path: req.url ?? "",
        signature: Array.isArray(signature) ? signature[0] : signature,
        contentType: req.headers["content-type"],
        body,
        event: JSON.parse(body),
      });
      const event = JSON.parse(body);
      const slug = `${event.type}.${event.action}`;
      const refusals = refuse.get(slug) ?? 0;
      if (refusals > 0) refuse.set(slug, refusals - 1);
      res.writeHead(refusals > 0 ? 500 : (answers.shift() ?? 200)).end("OK");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  ({ client } = await ricloudHarness({
    account: ACCOUNT,
    id: "hooks",
    dirPrefix: "i2m-ricloud-hooks-",
    spec: { mfa: { kind: "none" } },
    settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
    webhookRetryDelaysMs: [40, 40, 40, 40],
  }));
}, 60_000);
afterAll(async () => {
  await cleanUp();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

function eventsOf(slug: string): Delivery[] {
  return deliveries.filter((d) => `${d.event.type}.${d.event.action}` === slug);
}

describe("ricloud API: webhooks", () => {
  it("a new webhook config is tested with a signed webhook_config.test event and becomes the default", async () => {
    const created = await client.request("POST", "/configs/webhook", { body: { url: receiverUrl } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: "1",
      resource: "webhook_config",
      organisation: "1",
      url: receiverUrl,
      state: "valid",
      date_created: expect.any(String),
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    secret = created.json.secret;
    const [test] = eventsOf("webhook_config.test");
    expect(test?.path).toMatch(/^\/webhooks\/[0-9a-f-]{36}$/);
    expect(test?.path).toBe(`/webhooks/${test?.event.id}`);
    expect(test?.contentType).toBe("application/json");
    expect(verifySignature(test?.signature, test?.body ?? "", secret)).toBe(true);
    expect(verifySignature(test?.signature, test?.body ?? "", "another secret")).toBe(false);
    expect(verifySignature(test?.signature, `${test?.body} `, secret)).toBe(false);
    expect(test?.event).toMatchObject({ resource: "event", type: "webhook_config", action: "test", retries: 0 });
    expect(test?.event.data).not.toHaveProperty("secret");
    // The secret is shown at creation only.
    expect((await client.request("GET", "/configs/webhook/1")).json).not.toHaveProperty("secret");
    expect((await client.request("GET", "/organisation")).json.webhook_config_default).toBe("1");
  });

  it("a session and a poll deliver poll.created, task.created, task.succeeded and poll.completed, all signed", async () => {
    const user = await client.request("POST", "/users", { body: { identifier: "hooks" } });
    const created = await client.request("POST", "/sessions", {
      body: {
        source: { user: user.json.id, type: "icloud.account", identifier: ACCOUNT.appleId },
        payload: { password: ACCOUNT.password },
      },
      headers: { "Ricloud-Await": "10" },
    });
    expect(created.json.state).toBe("active");
    session = created.json.id;
    const poll = await client.request("POST", "/polls", {
      body: { session, payload: { info_types: ["*"] } },
      headers: { "Ricloud-Await": "10" },
    });
    expect(poll.json.state).toBe("completed");
    await until(() => eventsOf("poll.completed").length === 1, "poll.completed");
    for (const slug of ["poll.created", "task.created", "task.succeeded", "poll.completed"]) {
      const [delivery] = eventsOf(slug);
      expect(delivery, slug).toBeDefined();
      expect(verifySignature(delivery?.signature, delivery?.body ?? "", secret), slug).toBe(true);
    }
    const completed = eventsOf("poll.completed")[0]?.event;
    expect(completed.data).toEqual((await client.request("GET", `/polls/${poll.json.id}`)).json);
    expect(completed.data.results[0]).toMatchObject({ identifier: "data:info.account", state: "available" });
    const listed = await client.request("GET", `/events/${completed.id}`);
    expect(listed.json).toMatchObject({ id: completed.id, state: "delivered", retries: 0, webhook_config: "1" });
  });

  it("retries a refused delivery with back-off until it is accepted, and gives up after five attempts", async () => {
    deliveries.length = 0;
    refuse.set("poll.created", 2);
    const retried = await client.request("POST", "/polls", { body: { session, payload: { info_types: ["*"] } } });
    // poll.created is refused twice, then delivered.
    await until(() => eventsOf("poll.completed").length === 1, "poll.completed");
    await until(() => eventsOf("poll.created").length === 3, "the third attempt");
    const attempts = eventsOf("poll.created");
    expect(new Set(attempts.map((a) => a.event.id)).size).toBe(1);
    expect(attempts.map((a) => a.event.retries)).toEqual([0, 1, 2]);
    expect(attempts.every((a) => verifySignature(a.signature, a.body, secret))).toBe(true);
    const id = attempts[0]?.event.id;
    await until(() => deliveries.length >= 6, "the other events");
    const event = await client.request("GET", `/events/${id}`);
    expect(event.json).toMatchObject({ state: "delivered", retries: 2, data: { id: retried.json.id } });

    deliveries.length = 0;
    refuse.set("poll.created", 99);
    await client.request("POST", "/polls", { body: { session, payload: { info_types: ["*"] } } });
    await until(() => eventsOf("poll.created").length === 5, "five attempts");
    const failedId = eventsOf("poll.created")[0]?.event.id;
    await until(() => deliveries.length >= 8, "every event");
    await expect
      .poll(async () => (await client.request("GET", `/events/${failedId}`)).json)
      .toMatchObject({ state: "failed", retries: 4 });
    expect(eventsOf("poll.created")).toHaveLength(5);
    refuse.clear();
  });

  it("a webhook URL that does not answer 2xx leaves its config invalid, and it gets no events", async () => {
    answers.push(404);
    const created = await client.request("POST", "/configs/webhook", { body: { url: `${receiverUrl}/nowhere` } });
    expect(created.json.state).toBe("invalid");
    const key = await client.request("POST", "/keys/1", { body: { webhook_config: created.json.id } });
    expect(key.json.webhook_config).toBe(created.json.id);
    deliveries.length = 0;
    const poll = await client.request("POST", "/polls", {
      body: { session, payload: { info_types: ["*"] } },
      headers: { "Ricloud-Await": "10" },
    });
    expect(poll.json.state).toBe("completed");
    const events = await client.request("GET", "/events?type=poll&action=completed&limit=1");
    expect(events.json.data[0]).toMatchObject({ webhook_config: null, state: "pending" });
    expect(deliveries).toEqual([]);
    const invalid = await client.request("POST", "/configs/webhook", { body: { url: "file:///etc/passwd" } });
    expect(invalid.json).toMatchObject({ error: "invalid-parameter", params: { url: expect.any(String) } });
  });
});
