import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_ASSET, FAKE_JPEG, fakeDevice } from "../../src/testing/fixtures.ts";
import { type Harness, readyState, startHarness, TOKEN } from "../support/http.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function get(path: string, headers: Record<string, string> = {}) {
  if (!h) throw new Error("no harness");
  const res = await request(h.url + path, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, type: String(res.headers["content-type"]), body };
}

describe("GET /api/services (each enabled service's view)", () => {
  it("shows the enabled services' status and data, the newest photo's thumbnail as a file", async () => {
    h = await startHarness();
    h.engine.setSnapshot("main", {
      findmy: { devices: [fakeDevice("d2", "Zoe's iPad"), fakeDevice("d1", "Adam's iPhone", 40)] },
      photos: { latest: { asset: FAKE_ASSET, thumbnail: FAKE_JPEG }, count: 3, backfill: null },
    });
    const res = await get("api/services");
    expect(res.status).toBe(200);
    const status = readyState("main").services;
    // calls is disabled for the HTTP tests' accounts: it is left out.
    expect(JSON.parse(res.body.toString("utf8"))).toEqual({
      account: "main",
      services: {
        findmy: {
          title: "Find My",
          data_type: "fmip.devices",
          status: status.findmy,
          devices: [fakeDevice("d1", "Adam's iPhone", 40), fakeDevice("d2", "Zoe's iPad")],
        },
        photos: {
          title: "Photos",
          data_type: "icpl.photos",
          status: status.photos,
          latest: FAKE_ASSET,
          has_thumbnail: true,
          count: 3,
          backfill: null,
        },
      },
    });
    const thumbnail = await get("api/services/photos/latest-thumbnail.jpg?account=main");
    expect(thumbnail).toMatchObject({ status: 200, type: "image/jpeg" });
    expect(thumbnail.body.equals(FAKE_JPEG)).toBe(true);
    expect((await get("api/services/photos/latest-thumbnail.jpg?account=family")).status).toBe(404);
    expect((await get("api/services?account=nobody")).status).toBe(404);
  });

  it("needs the token when one is configured", async () => {
    h = await startHarness({ http: { auth_token: TOKEN } });
    expect((await get("api/services")).status).toBe(401);
    expect((await get("api/services/photos/latest-thumbnail.jpg")).status).toBe(401);
    expect((await get("api/services", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});
