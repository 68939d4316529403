import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/load.ts";
import { KeyStore } from "../../src/ricloud-api/key-store.ts";
import { EMBEDDED_BROKER, startTestBridge } from "../support/engine-harness.ts";
import { cleanUp, onCleanup, startTestSimulator, type TestAccount, tempDir, until } from "../support/harness.ts";
import { type RicloudClient, ricloudClient, ricloudHarness } from "../support/ricloud.ts";

afterEach(cleanUp);

const AWAIT = { "Ricloud-Await": "10" };

async function activeSession(client: RicloudClient, account: TestAccount): Promise<string> {
  const user = await client.request("POST", "/users", { body: { identifier: "flows" } });
  const session = await client.request("POST", "/sessions", {
    body: {
      source: { user: user.json.id, type: "icloud.account", identifier: account.appleId },
      payload: { password: account.password },
    },
    headers: AWAIT,
  });
  expect(session.json.state).toBe("active");
  return session.json.id;
}

describe("ricloud API: subscriptions, tasks, results", () => {
  it("a subscription polls on its schedule (requestor subscription) until it is deleted", async () => {
    const account: TestAccount = { appleId: "subs@example.com", password: "subscriptions-pw", code: "314159" };
    const { client } = await ricloudHarness({
      account,
      id: "subs",
      dirPrefix: "i2m-ricloud-subs-",
      spec: { mfa: { kind: "none" } },
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
      subscriptionMinGapMs: 200,
    });
    const session = await activeSession(client, account);
    const tooOften = await client.request("POST", "/subscriptions", {
      body: { session, poll_payload: { info_types: ["*"] }, schedule: "100ms" },
    });
    expect(tooOften.json).toMatchObject({ error: "invalid-parameter", params: { schedule: expect.any(String) } });
    const created = await client.request("POST", "/subscriptions", {
      body: { session, poll_payload: { info_types: ["*"] }, schedule: "300ms" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      resource: "subscription",
      session,
      poll_payload: { info_types: ["*"] },
      schedule: "300ms",
      state: "active",
      date_ended: null,
    });
    const polls = async () =>
      (await client.request("GET", `/polls?subscription=${created.json.id}&requestor=subscription&limit=100`)).json;
    await expect.poll(async () => (await polls()).total_count, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const ended = await client.request("DELETE", `/subscriptions/${created.json.id}`);
    expect(ended.json).toMatchObject({ state: "ended", date_ended: expect.any(String) });
    const count = (await polls()).total_count;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await polls()).total_count).toBeLessThanOrEqual(count + 1);
    const [first] = (await polls()).data;
    expect(first).toMatchObject({ requestor: "subscription", subscription: created.json.id, session });
  });

  it("tasks and results are listed and filtered; a deleted session takes no polls; GET ack works too", async () => {
    const account: TestAccount = { appleId: "lists@example.com", password: "lists-password", code: "271828" };
    const { client, dir } = await ricloudHarness({
      account,
      id: "lists",
      dirPrefix: "i2m-ricloud-lists-",
      spec: { mfa: { kind: "none" }, calls: { generate: { count: 2, seed: 3 } } },
      settings: { findmy: { enabled: false }, photos: { enabled: false } },
    });
    const session = await activeSession(client, account);
    const poll = await client.request("POST", "/polls", {
      body: { session, payload: { data_types: ["callkit.calls", "icpl.photos"], info_types: ["*"] } },
      headers: AWAIT,
    });
    expect(poll.json).toMatchObject({ state: "completed", type: "mixed" });
    expect(poll.json.tasks_succeeded).toHaveLength(2);
    // Photos are disabled for this account: that task fails, the poll still completes.
    expect(poll.json.errors).toEqual([
      { task: poll.json.tasks_failed[0], error: "service-not-available", message: expect.any(String) },
    ]);
    const tasks = await client.request("GET", `/tasks?poll=${poll.json.id}&limit=10`);
    expect(tasks.json.data.map((t: { target: string; state: string }) => [t.target, t.state]).sort()).toEqual([
      ["callkit.calls", "succeeded"],
      ["icpl.photos", "failed"],
      ["info.account", "succeeded"],
    ]);
    const results = await client.request("GET", `/results?poll=${poll.json.id}&identifier=data:callkit.calls`);
    expect(results.json.data).toHaveLength(1);
    const result = results.json.data[0];
    const ack = await client.request("GET", `/results/${result.id}/ack`);
    expect(ack.json.state).toBe("consumed");
    expect((await client.request("GET", `/results/${result.id}/download`)).status).toBe(404);
    const stored = await readdir(join(dir, "ricloud", "results", poll.json.id));
    expect(stored).toHaveLength(1); // the info result; the acknowledged one is gone

    const deleted = await client.request("DELETE", `/sessions/${session}`);
    expect(deleted.json).toMatchObject({ state: "expired", date_expired: expect.any(String) });
    const refused = await client.request("POST", "/polls", { body: { session, payload: { info_types: ["*"] } } });
    expect(refused.json).toMatchObject({ error: "session-expired" });
  });

  it("limits polls per key and minute (429 limit-exceeded)", async () => {
    const account: TestAccount = { appleId: "limits@example.com", password: "limits-password", code: "161803" };
    const { client } = await ricloudHarness({
      account,
      id: "limits",
      dirPrefix: "i2m-ricloud-limits-",
      spec: { mfa: { kind: "none" } },
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
      api: { polls_per_minute: 2 },
    });
    const session = await activeSession(client, account);
    const body = { session, payload: { info_types: ["*"] } };
    expect((await client.request("POST", "/polls", { body })).status).toBe(201);
    expect((await client.request("POST", "/polls", { body })).status).toBe(201);
    const third = await client.request("POST", "/polls", { body });
    expect(third).toMatchObject({ status: 429, json: { error: "limit-exceeded" } });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("ricloud API in the bridge", () => {
  it("startBridge serves it when ricloud_api.enabled; sessions check the configured password", async () => {
    const account: TestAccount = {
      appleId: "bridge-ricloud@example.com",
      password: "bridge-ricloud-pw",
      code: "515151",
    };
    const sim = await startTestSimulator(account, { mfa: { kind: "none" } });
    const dir = await tempDir("i2m-ricloud-bridge-");
    const { config } = await resolveConfig({
      state_dir: dir,
      accounts: [
        {
          id: "home",
          username: account.appleId,
          password: account.password,
          endpoint: sim.url,
          findmy: { enabled: false },
          photos: { enabled: false },
          calls: { enabled: false },
        },
      ],
      mqtt: EMBEDDED_BROKER,
      http: { enabled: false },
      ricloud_api: { enabled: true, port: 0 },
    });
    const bridge = await startTestBridge(config);
    onCleanup(() => bridge.stop());
    expect(bridge.ricloudUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const { token } = await new KeyStore(dir).create("bridge");
    const client = ricloudClient(bridge.ricloudUrl ?? "", token);
    await until(() => bridge.engine.snapshot("home").state.session.state === "active", "signed in");
    const user = await client.request("POST", "/users", { body: { identifier: "bridge" } });
    const attempt = (password: string) =>
      client.request("POST", "/sessions", {
        body: {
          source: { user: user.json.id, type: "icloud.account", identifier: account.appleId },
          payload: { password },
        },
        headers: AWAIT,
      });
    expect((await attempt("not-it")).json).toMatchObject({ state: "failed", error: "invalid-credentials" });
    expect((await attempt(account.password)).json).toMatchObject({ state: "active" });
  });
});
