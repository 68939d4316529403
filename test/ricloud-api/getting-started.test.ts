import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, type TestAccount } from "../support/harness.ts";
import { ricloudHarness, untilBlocked } from "../support/ricloud.ts";

const ACCOUNT: TestAccount = { appleId: "start@example.com", password: "getting-started-pw", code: "246810" };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

afterEach(cleanUp);

/** ricloud's "Getting started" walkthrough, request by request, against the engine and the simulator. */
describe("ricloud API: the getting-started walkthrough", () => {
  it("organisation → user → session with 2FA in two attempts → poll callkit.calls → result → download → ack", async () => {
    const { engine, client } = await ricloudHarness({
      account: ACCOUNT,
      id: "jane",
      dirPrefix: "i2m-ricloud-start-",
      spec: { calls: { generate: { count: 6, seed: 4 } }, photos: { count: 2, seed: 1 } },
      // Find My waits for family devices still loading; this walkthrough needs no devices.
      settings: { findmy: { enabled: false } },
    });

    const organisation = await client.request("GET", "/organisation");
    expect(organisation.status).toBe(200);
    expect(organisation.json).toMatchObject({
      id: 1,
      resource: "organisation",
      permissions: { resource: "organisation_permissions", identifier: "default" },
      storage_configs: [{ id: "1", resource: "storage_config", type: "local", state: "valid" }],
      storage_config_default: "1",
      webhook_configs: [],
      webhook_config_default: null,
      state: "active",
    });
    expect(Object.keys(organisation.json.permissions.scopes)).toEqual([
      "source_type:icloud.account",
      "task_type:*",
      "data_type:fmip.devices",
      "data_type:icpl.photos",
      "data_type:callkit.calls",
      "data_type:mme_contacts.contacts",
      "data_type:mme_calendar.events",
      "data_type:mme_notes.notes",
      "data_type:cloudkit_safari.history",
      "data_type:info.account",
    ]);

    const user = await client.request("POST", "/users", { body: { identifier: "walkthrough" } });
    expect(user.status).toBe(201);
    expect(user.json).toEqual({
      id: "1",
      resource: "user",
      organisation: "1",
      key: "1",
      identifier: "walkthrough",
      state: "active",
      date_created: expect.stringMatching(ISO),
    });
    // ricloud-py's samples "get or create" by posting again: the same user comes back.
    expect(await client.request("POST", "/users", { body: { identifier: "walkthrough" } })).toMatchObject({
      status: 200,
      json: { id: "1" },
    });

    await untilBlocked(engine, "jane");
    const source = { user: "1", type: "icloud.account", identifier: ACCOUNT.appleId };
    const first = await client.request("POST", "/sessions", {
      body: { source, payload: { password: ACCOUNT.password } },
    });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      id: expect.stringMatching(UUID),
      resource: "session",
      organisation: "1",
      key: "1",
      user: "1",
      source: "1",
      state: "pending",
      error: null,
      error_info: null,
      date_created: expect.stringMatching(ISO),
      date_expired: null,
    });
    const needsCode = await client.settle(`/sessions/${first.json.id}`);
    expect(needsCode.json).toMatchObject({ state: "failed", error: "code-required" });

    const second = await client.request("POST", "/sessions", {
      body: { source, payload: { password: ACCOUNT.password, code: ACCOUNT.code } },
    });
    expect(second.json.state).toBe("pending");
    const active = await client.settle(`/sessions/${second.json.id}`);
    expect(active.json).toMatchObject({ id: second.json.id, state: "active", error: null });
    expect(engine.snapshot("jane").state.session.state).toBe("active");
    expect((await client.request("GET", "/sources/1")).json).toMatchObject({
      resource: "source",
      type: "icloud.account",
      identifier: ACCOUNT.appleId,
      state: "active",
    });

    const poll = await client.request("POST", "/polls", {
      body: { session: second.json.id, type: "data", payload: { data_types: ["callkit.calls"] } },
    });
    expect(poll.status).toBe(201);
    expect(poll.json).toMatchObject({
      resource: "poll",
      session: second.json.id,
      source: "1",
      user: "1",
      type: "data",
      results: [],
    });
    expect(poll.json.tasks_pending.length + poll.json.tasks_processing.length).toBe(1);
    const done = await client.settle(`/polls/${poll.json.id}`);
    expect(done.json).toMatchObject({
      state: "completed",
      tasks_failed: [],
      date_completed: expect.stringMatching(ISO),
    });
    expect(done.json.tasks_succeeded).toHaveLength(1);
    expect(done.json.tasks_completed).toEqual(done.json.tasks_succeeded);
    const [result] = done.json.results;
    expect(result).toEqual({
      id: expect.stringMatching(UUID),
      resource: "result",
      organisation: "1",
      key: "1",
      poll: poll.json.id,
      task: done.json.tasks_succeeded[0],
      identifier: "data:callkit.calls",
      type: "json",
      url: expect.stringMatching(/^local:\/\/\/.+\.json$/),
      checksum: expect.stringMatching(/^[0-9a-f]{32}$/),
      size: expect.any(Number),
      state: "available",
      date_created: expect.stringMatching(ISO),
      date_consumed: null,
      date_deleted: null,
    });

    // ricloud-py's Result.download() for local:// copies the URL's path.
    const path = new URL(result.url).pathname;
    const bytes = await readFile(path);
    expect(bytes.length).toBe(result.size);
    expect(createHash("md5").update(bytes).digest("hex")).toBe(result.checksum);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const calls = JSON.parse(bytes.toString("utf8")).data;
    expect(calls).toHaveLength(6);
    expect(calls.every((call: { data_type: string }) => call.data_type === "callkit.call")).toBe(true);
    // The newest call is the one MQTT publishes as calls/last.
    await expect.poll(() => engine.snapshot("jane").calls.last).not.toBeNull();
    expect(calls[0]).toEqual(engine.snapshot("jane").calls.last);

    const download = await fetch(new URL(`results/${result.id}/download`, client.url), {
      headers: { authorization: `Token ${client.token}` },
    });
    expect(download.headers.get("content-type")).toBe("application/json");
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    const ack = await client.request("POST", `/results/${result.id}/ack`);
    expect(ack.json).toMatchObject({ id: result.id, state: "consumed", date_consumed: expect.stringMatching(ISO) });
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    expect((await client.request("GET", "/results")).json.data).toEqual([]);
    expect((await client.request("GET", "/results?state=consumed")).json.data).toHaveLength(1);
  });
});
