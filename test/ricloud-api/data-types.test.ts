import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { buffer } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.ts";
import { resourceSize, resourceStream } from "../../src/simulator/photos/content.ts";
import { findPhotosSimulator } from "../../src/simulator/photos/index.ts";
import { RES_ORIGINAL } from "../../src/simulator/photos/names.ts";
import { findAsset } from "../../src/simulator/photos/photos-simulator.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";
import { type RicloudClient, ricloudHarness } from "../support/ricloud.ts";

const ACCOUNT: TestAccount = { appleId: "types@example.com", password: "data-types-password", code: "135790" };

let client: RicloudClient;
let engine: Engine;
let sim: SimulatorHandle;
let session: string;

beforeAll(async () => {
  ({ client, engine, sim } = await ricloudHarness({
    account: ACCOUNT,
    id: "types",
    dirPrefix: "i2m-ricloud-types-",
    spec: {
      mfa: { kind: "none" },
      findmy: {},
      photos: { count: 7, seed: 5, live_photo_ratio: 0.5 },
      calls: { generate: { count: 3, seed: 2 } },
    },
  }));
  await until(() => engine.snapshot("types").state.services.photos.last_sync !== null, "the first sync");
  const user = await client.request("POST", "/users", { body: { identifier: "types-user" } });
  const created = await client.request("POST", "/sessions", {
    body: {
      source: { user: user.json.id, type: "icloud.account", identifier: ACCOUNT.appleId },
      payload: { password: ACCOUNT.password },
    },
    headers: { "Ricloud-Await": "10" },
  });
  // With Ricloud-Await the answer comes once the attempt settled: the bridge is already signed in.
  expect(created.json).toMatchObject({ state: "active", error: null });
  session = created.json.id;
}, 60_000);
afterAll(cleanUp);

/** Polls `payload` with Ricloud-Await and answers the completed poll and its results' JSON. */
async function poll(payload: Record<string, unknown>) {
  const answer = await client.request("POST", "/polls", {
    body: { session, payload },
    headers: { "Ricloud-Await": "10" },
  });
  expect(answer.status).toBe(201);
  const done = answer.json.state === "completed" ? answer : await client.settle(`/polls/${answer.json.id}`);
  return done.json;
}

async function content(result: { url: string }): Promise<Buffer> {
  return readFile(new URL(result.url).pathname);
}

describe("ricloud API: data types", () => {
  it("fmip.devices: every device as fmip.device, the values MQTT publishes; a second poll within 10 s asks Apple nothing", async () => {
    const first = await poll({ data_types: ["fmip.devices"] });
    expect(first).toMatchObject({ state: "completed", type: "data", tasks_failed: [] });
    const [result] = first.results;
    expect(result.identifier).toBe("data:fmip.devices");
    const devices = JSON.parse((await content(result)).toString()).data;
    expect(devices.length).toBeGreaterThan(2);
    const byId = (list: Array<{ id: string }>) => [...list].sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(devices)).toEqual(byId(engine.snapshot("types").findmy.devices));
    expect(devices[0]).toMatchObject({
      data_type: "fmip.device",
      id: expect.any(String),
      name: expect.any(String),
      model_name: expect.any(String),
      model_identifier: expect.any(String),
      product_type: expect.any(String),
      battery_status: expect.any(String),
    });
    expect(devices.some((device: { location: unknown }) => device.location !== null)).toBe(true);

    const refreshes = () => sim.requests().filter((r) => r.route === "fmip.refreshClient").length;
    const before = refreshes();
    const second = await poll({ data_types: ["fmip.devices"] });
    expect(second.tasks_failed).toEqual([]);
    expect(refreshes()).toBe(before);
  });

  it("icpl.photos, then a files poll with an asset's original: the original bytes", async () => {
    const data = await poll({ data_types: ["icpl.photos"] });
    const [result] = data.results;
    expect(result).toMatchObject({ identifier: "data:icpl.photos", type: "json" });
    const assets = JSON.parse((await content(result)).toString()).data;
    expect(assets).toHaveLength(7);
    // Newest added first; the newest is what MQTT publishes as photos/latest.
    expect(assets[0]).toEqual(engine.snapshot("types").photos.latest?.asset);
    expect(assets[0]).toMatchObject({
      data_type: "icpl.asset",
      filename: expect.any(String),
      date_created: expect.any(String),
      date_uploaded: expect.any(String),
    });
    expect(assets[0].files[0]).toMatchObject({
      id: expect.stringMatching(/^icpl:\/\//),
      data_type: expect.any(String),
    });

    const asset = assets.find((a: { media_type: string }) => a.media_type === "live_photo") ?? assets[0];
    const original = asset.files.find((f: { role: string }) => f.role === "original");
    const live = asset.files.find((f: { role: string }) => f.role !== "original");
    const files = await poll({ files: [original.id, live.id] });
    expect(files).toMatchObject({ type: "files", tasks_failed: [] });
    expect(files.results.map((r: { identifier: string }) => r.identifier).sort()).toEqual(
      [original.id, live.id].sort(),
    );
    const stored = files.results.find((r: { identifier: string }) => r.identifier === original.id);
    expect(stored).toMatchObject({ type: "file", size: original.size, url: expect.stringMatching(/^local:\/\/\//) });
    const bytes = await content(stored);
    expect(createHash("md5").update(bytes).digest("hex")).toBe(stored.checksum);

    const photos = findPhotosSimulator(sim.url);
    const dsid = photos?.ctx.accounts().find((a) => a.appleId === ACCOUNT.appleId)?.dsid ?? "";
    const zone = photos?.library(dsid)?.zones.find((z) => z.library.zone.zoneName === asset.zone)?.library;
    if (!zone) throw new Error("zone not found");
    const idx = findAsset(zone, asset.id) ?? -1;
    const size = resourceSize(zone, idx, RES_ORIGINAL);
    expect(bytes).toEqual(await buffer(resourceStream(zone, idx, RES_ORIGINAL, 0, size - 1)));
  });

  it('info: the account (info_types ["*"] and data_types ["info.account"] alike)', async () => {
    const info = await poll({ info_types: ["*"] });
    expect(info).toMatchObject({ type: "info", tasks_failed: [] });
    expect(info.results[0].identifier).toBe("data:info.account");
    expect(JSON.parse((await content(info.results[0])).toString())).toEqual({
      data: [
        {
          id: "types",
          data_type: "info.account",
          identifier: ACCOUNT.appleId,
          session_state: "active",
          trust_expires_at: null,
          data_types: ["fmip.devices", "icpl.photos", "callkit.calls", "mme_calendar.events"],
        },
      ],
    });
    const again = await poll({ data_types: ["info.account", "callkit.calls"] });
    expect(again.type).toBe("data");
    expect(again.results.map((r: { identifier: string }) => r.identifier)).toEqual([
      "data:info.account",
      "data:callkit.calls",
    ]);
  });

  it("refuses unknown data types and unknown files; a file id never listed fails its task", async () => {
    const unknown = await client.request("POST", "/polls", {
      body: { session, payload: { data_types: ["idrive.files"] } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      error: "invalid-parameter",
      params: { "payload.data_types": expect.any(String) },
    });
    const scheme = await client.request("POST", "/polls", { body: { session, payload: { files: ["mme://x"] } } });
    expect(scheme.json.error).toBe("invalid-parameter");
    const empty = await client.request("POST", "/polls", { body: { session, payload: {} } });
    expect(empty.json).toMatchObject({ error: "invalid-parameter", params: { payload: expect.any(String) } });
    const never = await poll({ files: ["icpl://never-listed"] });
    expect(never.tasks_failed).toHaveLength(1);
    expect(never.errors).toEqual([{ task: never.tasks_failed[0], error: "not-found", message: expect.any(String) }]);
    const task = await client.request("GET", `/tasks/${never.tasks_failed[0]}`);
    expect(task.json).toMatchObject({
      resource: "task",
      type: "files",
      target: "icpl://never-listed",
      state: "failed",
      error: "not-found",
    });
  });

  it("filters icpl.photos by since/until on date_uploaded", async () => {
    const all = await poll({ data_types: ["icpl.photos"] });
    const assets = JSON.parse((await content(all.results[0])).toString()).data as Array<{ date_uploaded: string }>;
    const middle = assets[3]?.date_uploaded ?? "";
    const since = await poll({ data_types: ["icpl.photos"], filters: { since: middle } });
    const newer = JSON.parse((await content(since.results[0])).toString()).data;
    expect(newer).toEqual(assets.slice(0, 3));
    const bad = await client.request("POST", "/polls", {
      body: { session, payload: { data_types: ["icpl.photos"], filters: { since: "yesterday" } } },
    });
    expect(bad.json).toMatchObject({
      error: "invalid-parameter",
      params: { "payload.filters.since": expect.any(String) },
    });
  });
});
