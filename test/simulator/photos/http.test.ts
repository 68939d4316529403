import { get } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPhotosRoutes, findPhotosSimulator } from "../../../src/simulator/photos/index.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import { startSim } from "../../support/harness.ts";

const BASE = "/database/1/com.apple.photos.cloud/production/private";
const DSID = "7000001";
const F = "$" + "{f}";
let sim: SimulatorHandle;
let cookie = "";

interface Rec {
  recordName: string;
  recordType?: string;
  fields?: Record<string, { value: unknown; type: string }>;
}
interface AssetId {
  size: number;
  downloadURL: string;
}

function resource(record: Rec | undefined, field: string): AssetId {
  const value = record?.fields?.[field]?.value;
  if (!value) throw new Error(`record without ${field}`);
  return value as AssetId;
}

/** A web session made through the core's world (signing in over HTTP is tested elsewhere). */
function webSessionCookie(appleId: string): string {
  const account = sim.world.accounts.byAppleId(appleId);
  if (!account) throw new Error("no account");
  const session = sim.world.newWebSession(account);
  session.restricted = false;
  session.mfaDone = true;
  return `X-APPLE-WEBAUTH-TOKEN="${sim.world.issueValidateToken(session).value}"`;
}

async function ck(path: string, body: unknown, contentType = "text/plain") {
  const res = await fetch(`${sim.url}${BASE}/${path}?remapEnums=True&getCurrentSyncToken=True&dsid=${DSID}`, {
    method: "POST",
    headers: { "Content-Type": contentType, Cookie: cookie, Origin: "https://www.icloud.com" },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    json: (await res.json()) as Record<string, unknown>,
  };
}

function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const u = new URL(url);
  // Path kept verbatim: the literal `${f}` goes on the wire unencoded.
  const path = url.slice(u.origin.length);
  return new Promise((resolve, reject) => {
    get({ host: u.hostname, port: u.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

async function firstPage(): Promise<Rec[]> {
  const res = await ck("records/query", {
    query: {
      recordType: "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
      filterBy: [
        { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: 0 } },
        { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "ASCENDING" } },
      ],
    },
    resultsLimit: 200,
    zoneID: { zoneName: "PrimarySync" },
  });
  expect(res.status).toBe(200);
  return res.json.records as Rec[];
}

beforeAll(async () => {
  const scenario = parseScenario({
    accounts: [
      {
        apple_id: "photos@example.com",
        password: "pw",
        dsid: DSID,
        photos: { count: 120, seed: 3, live_photo_ratio: 0.5, original_size: { min: 2_000_000, max: 2_000_000 } },
      },
    ],
  });
  sim = await startSim(scenario, { services: [createPhotosRoutes], closeAtCleanup: false });
  cookie = webSessionCookie("photos@example.com");
});

afterAll(async () => {
  await sim.close();
});

describe("photos simulator over HTTP", () => {
  it("answers CloudKit calls sent as text/plain or application/json", async () => {
    const zones = await ck("zones/list", {});
    expect(zones.status).toBe(200);
    expect(zones.type).toMatch(/^application\/json/);
    const json = await ck("zones/list", {}, "application/json");
    expect(json.json).toEqual(zones.json);
    const anonymous = await fetch(`${sim.url}${BASE}/zones/list?dsid=${DSID}`, { method: "POST", body: "{}" });
    expect(anonymous.status).toBe(401);
  });

  it("downloads originals and thumbnails with the literal placeholder, $%7Bf%7D or a filename, with Range", async () => {
    const records = await firstPage();
    const master = records.find((r) => r.recordType === "CPLMaster");
    const original = master?.fields?.resOriginalRes?.value as AssetId;
    expect(original.downloadURL.startsWith(`${sim.url}/B/`)).toBe(true);
    const literal = await rawGet(original.downloadURL);
    expect(literal.status).toBe(200);
    expect(literal.headers["content-length"]).toBe(String(original.size));
    expect(literal.body.length).toBe(original.size);
    const encoded = await rawGet(original.downloadURL.replace(F, "$%7Bf%7D"));
    expect(encoded.body.equals(literal.body)).toBe(true);
    const named = await fetch(original.downloadURL.replace(F, "IMG_0001.HEIC"));
    expect(named.status).toBe(200);
    await named.arrayBuffer();
    const tail = await rawGet(original.downloadURL, { Range: "bytes=1000000-" });
    expect(tail.status).toBe(206);
    expect(tail.headers["content-range"]).toBe(`bytes 1000000-${original.size - 1}/${original.size}`);
    expect(tail.body.equals(literal.body.subarray(1_000_000))).toBe(true);
    const mid = await rawGet(original.downloadURL, { Range: "bytes=10-19" });
    expect(mid.status).toBe(206);
    expect(mid.body.equals(literal.body.subarray(10, 20))).toBe(true);
    const bad = await rawGet(original.downloadURL, { Range: `bytes=${original.size}-` });
    expect(bad.status).toBe(416);
    const thumb = master?.fields?.resJPEGThumbRes?.value as AssetId;
    const jpeg = await rawGet(thumb.downloadURL);
    expect(jpeg.body.length).toBe(thumb.size);
    expect([...jpeg.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const tampered = await rawGet(original.downloadURL.replace(/s=[^&]+/, "s=AAAA"));
    expect(tampered.status).toBe(403);
  });

  it("streams 50 x 2 MB quickly (server throughput printed; node:http client)", async () => {
    const records = await firstPage();
    const urls = records
      .filter((r) => r.recordType === "CPLMaster")
      .slice(0, 50)
      .map((r) => resource(r, "resOriginalRes").downloadURL);
    const started = performance.now();
    let bytes = 0;
    await Promise.all(
      urls.map(async (url) => {
        const res = await rawGet(url);
        bytes += res.body.length;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `downloaded ${(bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(0)} MB/s)`,
    );
    expect(bytes).toBe(50 * 2_000_000);
  });

  it("adds photos at run time through the exported control and expires URLs with the clock", async () => {
    const control = findPhotosSimulator(sim.url);
    if (!control) throw new Error("photos simulator not found by url");
    const before = await ck("zones/list", {});
    const token = (before.json.zones as { syncToken: string }[])[0]?.syncToken;
    const added = control.addPhotos(DSID, 3);
    const delta = await ck("changes/zone", { zones: [{ zoneID: { zoneName: "PrimarySync" }, syncToken: token }] });
    const records = ((delta.json.zones as { records: Rec[] }[])[0]?.records ?? []).map((r) => r.recordName);
    expect(records).toEqual(added.flatMap((p) => [p.masterRecordName, p.assetRecordName]));
    const page = await firstPage();
    const url = resource(
      page.find((r) => r.recordType === "CPLMaster"),
      "resOriginalRes",
    ).downloadURL;
    sim.clock.advance(3_600_000 + 1000);
    const expired = await rawGet(url);
    expect(expired.status).toBe(410);
  });
});
