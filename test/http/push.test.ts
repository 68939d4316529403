import { createECDH, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { Agent, createServer as createHttpsServer } from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { generate } from "selfsigned";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultSubject } from "../../src/http/push-notifier.ts";
import { PUSH_STORE_FILE } from "../../src/http/push-store.ts";
import { until } from "../support/harness.ts";
import { blockedState, type Harness, startHarness } from "../support/http.ts";

/** web-push's own ECE implementation, to decrypt what the push service receives. */
const ece = createRequire(import.meta.url)("http_ece") as {
  decrypt(buffer: Buffer, params: { version: string; privateKey: unknown; authSecret: string }): Buffer;
};

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local HTTPS "push service": /ok/* answers 201, /gone/* answers 410. */
let service: ReturnType<typeof createHttpsServer>;
let serviceUrl = "";
const received: Received[] = [];
const agent = new Agent({ rejectUnauthorized: false }); // the test's self-signed push service

beforeAll(async () => {
  const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], { keySize: 2048 });
  service = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(req.url?.startsWith("/gone/") ? 410 : 201).end();
    });
  });
  await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
  serviceUrl = `https://127.0.0.1:${(service.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => service.close(resolve));
  agent.destroy();
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  received.length = 0;
});

function browserSubscription(path: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16).toString("base64url");
  const json = {
    endpoint: `${serviceUrl}${path}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey("base64url"), auth },
  };
  return { json, ecdh, auth };
}

async function subscribe(url: string, body: unknown): Promise<number> {
  const res = await request(`${url}api/subscribe`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

describe("web push", () => {
  it("delivers an encrypted VAPID-signed notification when a code is needed, and drops 410 subscriptions", async () => {
    h = await startHarness({ pushAgent: agent });
    const ok = browserSubscription("/ok/device-1");
    const gone = browserSubscription("/gone/device-2");
    expect(await subscribe(h.url, ok.json)).toBe(201);
    expect(await subscribe(h.url, gone.json)).toBe(201);
    expect(await subscribe(h.url, ok.json)).toBe(201); // same endpoint: replaced, not duplicated
    expect(h.server.push?.subscriptionCount).toBe(2);

    h.engine.bus.emit("mfa.required", { account: "main", state: blockedState("main") });
    await until(() => received.length === 2, "two pushes", 5000);
    await until(() => h?.server.push?.subscriptionCount === 1, "the 410 subscription dropped", 5000);

    const delivered = received.find((r) => r.path === "/ok/device-1");
    expect(delivered).toBeDefined();
    const { publicKey } = (await (await request(`${h.url}api/vapid-public-key`)).body.json()) as { publicKey: string };
    expect(delivered?.headers.authorization).toMatch(
      new RegExp(`^vapid t=[\\w-]+\\.[\\w-]+\\.[\\w-]+, k=${publicKey}$`),
    );
    expect(delivered?.headers["content-encoding"]).toBe("aes128gcm");
    expect(delivered?.headers.ttl).toBe("3600");
    expect(delivered?.headers.urgency).toBe("high");
    const jwtPayload = JSON.parse(
      Buffer.from(String(delivered?.headers.authorization).split(".")[1] ?? "", "base64url").toString(),
    ) as { aud: string; sub: string };
    expect(jwtPayload).toMatchObject({ aud: serviceUrl, sub: "mailto:test@example.com" });

    const clear = ece.decrypt(delivered?.body ?? Buffer.alloc(0), {
      version: "aes128gcm",
      privateKey: ok.ecdh,
      authSecret: ok.auth,
    });
    expect(JSON.parse(clear.toString())).toEqual({
      title: "iCloud needs a verification code",
      body: expect.stringContaining('Account "main": enter the six-digit code'),
      tag: "mfa-main",
      url: "mfa?account=main",
      urgency: "high",
    });

    // the count drops before the store file is rewritten: wait for the file
    const storedEndpoints = async () => {
      const stored = JSON.parse(await readFile(join(h?.stateDir ?? "", PUSH_STORE_FILE), "utf8")) as {
        subscriptions: Array<{ endpoint: string }>;
      };
      return stored.subscriptions.map((s) => s.endpoint);
    };
    await expect.poll(storedEndpoints).toEqual([ok.json.endpoint]);
  });

  it("notifies sync failures with the message", async () => {
    h = await startHarness({ pushAgent: agent });
    const ok = browserSubscription("/ok/device-3");
    await subscribe(h.url, ok.json);
    h.engine.bus.emit("sync.failed", { account: "family", code: "mfa-timeout", message: "no code entered within 10m" });
    await until(() => received.length === 1, "one push", 5000);
    const clear = ece.decrypt(received[0]?.body ?? Buffer.alloc(0), {
      version: "aes128gcm",
      privateKey: ok.ecdh,
      authSecret: ok.auth,
    });
    expect(JSON.parse(clear.toString())).toMatchObject({
      title: "iCloud sync failed",
      body: 'Account "family": no code entered within 10m',
    });
  });

  it("persists keys (0600) and subscriptions across restarts and removes bus listeners on stop", async () => {
    h = await startHarness({ pushAgent: agent });
    const { stateDir } = h;
    const key1 = (await (await request(`${h.url}api/vapid-public-key`)).body.json()) as { publicKey: string };
    await subscribe(h.url, browserSubscription("/ok/device-4").json);
    expect(statSync(join(stateDir, PUSH_STORE_FILE)).mode & 0o777).toBe(0o600);
    expect(h.engine.bus.listenerCount("mfa.required")).toBe(1);
    await h.server.stop();
    expect(h.engine.bus.listenerCount("mfa.required")).toBe(0);
    expect(h.engine.bus.listenerCount("sync.failed")).toBe(0);

    const again = await startHarness({ pushAgent: agent, stateDir, engine: h.engine });
    h = again;
    const key2 = (await (await request(`${again.url}api/vapid-public-key`)).body.json()) as { publicKey: string };
    expect(key2.publicKey).toBe(key1.publicKey);
    expect(again.server.push?.subscriptionCount).toBe(1);
    const text = await readFile(join(stateDir, PUSH_STORE_FILE), "utf8");
    const served = [await (await request(`${again.url}api/vapid-public-key`)).body.text()];
    const privateKey = (JSON.parse(text) as { vapid: { privateKey: string } }).vapid.privateKey;
    expect(served.join()).not.toContain(privateKey);
  });

  it("is off when push.enabled is false", async () => {
    h = await startHarness({ push: { enabled: false } });
    expect((await request(`${h.url}api/vapid-public-key`)).statusCode).toBe(404);
    expect(h.engine.bus.listenerCount("mfa.required")).toBe(0);
    await rm(join(h.stateDir, PUSH_STORE_FILE), { force: true });
  });

  it("derives a mailto: subject from the host name", () => {
    expect(defaultSubject("nas")).toBe("mailto:icloud2mqtt@nas.local");
    expect(defaultSubject("home.example.org")).toBe("mailto:icloud2mqtt@home.example.org");
    expect(defaultSubject("")).toBe("mailto:icloud2mqtt@localhost.local");
  });
});
