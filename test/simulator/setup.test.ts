import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { dig, TEST_SCENARIO, TestClient } from "../support/idmsa-client.ts";

const JANE = "jane@example.com";
const JANE_PW = "correct horse battery staple";
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ scenario: TEST_SCENARIO });
});
afterAll(async () => {
  await sim.close();
});

const STRICT_JANE = "strict-jane@example.com";

/** Signs Jane (or her strict twin) in through 2FA and trust; returns the client with a live web session. */
async function trustedJane(appleId = JANE): Promise<TestClient> {
  const client = new TestClient(sim.url);
  expect((await client.signIn(appleId, JANE_PW)).status).toBe(409);
  await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
  await client.request("POST", "/appleauth/auth/verify/trusteddevice/securitycode", {
    json: { securityCode: { code: "012345" } },
  });
  expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(204);
  expect((await client.accountLogin()).status).toBe(200);
  return client;
}

const validate = (client: TestClient) =>
  client.request("POST", "/setup/ws/1/validate?clientBuildNumber=2534Project66", { body: "null" });

describe("setup service", () => {
  it("reports a pending second factor when accountLogin gets the pre-2FA token", async () => {
    const client = new TestClient(sim.url);
    await client.signIn(JANE, JANE_PW);
    const login = await client.accountLogin();
    expect(login.status).toBe(200);
    expect(login.json).toMatchObject({ hsaChallengeRequired: true, hsaTrustedBrowser: false });
    expect(login.headers.getSetCookie().some((line) => line.startsWith("X-APPLE-WEBAUTH-HSA-TRUST"))).toBe(false);
  });

  it("refuses an unknown session token with 421", async () => {
    const client = new TestClient(sim.url);
    client.session["sessionToken"] = "bogus";
    const login = await client.accountLogin();
    expect(login.status).toBe(421);
    expect(login.text).toBe('{"success":false,"error":1}');
  });

  it("validates while X-APPLE-WEBAUTH-TOKEN lives, then 421; accountLogin with the stored token recovers", async () => {
    const client = await trustedJane();
    const oldToken = client.cookies.get("X-APPLE-WEBAUTH-TOKEN")?.value;
    const ok = await validate(client);
    expect(ok.status).toBe(200);
    expect(dig(ok.json, "dsInfo.dsid")).toBe("12345678901");
    expect(client.cookies.get("X-APPLE-WEBAUTH-TOKEN")?.value).not.toBe(oldToken);

    sim.clock.advance(61 * 60_000);
    const expired = await validate(client);
    expect(expired.status).toBe(421);
    expect(expired.json).toEqual({ success: false, error: 1 });

    // Session token (10 min) is past its own life, but its web session (30 d) still lives.
    const again = await client.accountLogin();
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
    expect((await validate(client)).status).toBe(200);

    sim.clock.advance(31 * 86_400_000);
    expect((await client.accountLogin()).status).toBe(421);
    const signin = await client.signIn(JANE, JANE_PW);
    expect(signin.status).toBe(409); // trust token (30 d) expired too
  });

  it("validates without the already-expired HSA-LOGIN cookie (Python cookie jars drop it)", async () => {
    const client = await trustedJane();
    client.cookies.delete("X-APPLE-WEBAUTH-HSA-LOGIN");
    const answer = await validate(client);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ dsInfo: { dsid: "12345678901" }, hsaTrustedBrowser: true });
  });

  it("strict: refuses validate without the already-expired HSA-LOGIN cookie", async () => {
    const client = await trustedJane(STRICT_JANE);
    expect((await validate(client)).status).toBe(200);
    client.cookies.delete("X-APPLE-WEBAUTH-HSA-LOGIN");
    expect((await validate(client)).status).toBe(421);
  });

  it("admin expire: validate_token, session_token, trust", async () => {
    const client = await trustedJane();
    const admin = new TestClient(sim.url);
    const expire = (what: string) =>
      admin.request("POST", `/__sim/accounts/${encodeURIComponent(JANE)}/expire`, { json: { what } });
    expect((await expire("validate_token")).status).toBe(204);
    expect((await validate(client)).status).toBe(421);
    expect((await client.accountLogin()).status).toBe(200);
    expect((await expire("session_token")).status).toBe(204);
    expect((await client.accountLogin()).status).toBe(421);
    expect((await expire("trust")).status).toBe(204);
    expect((await client.signIn(JANE, JANE_PW)).status).toBe(409);
    expect((await expire("nonsense")).status).toBe(400);
  });

  it("logs out (then 421)", async () => {
    const client = await trustedJane();
    const params = "?dsid=12345678901";
    const out = await client.request("POST", `/setup/ws/1/logout${params}`, {
      body: JSON.stringify({ trustBrowser: true, allBrowsers: false }),
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
    });
    expect(out.status).toBe(200);
    expect(out.json).toEqual({ success: true });
    const again = await client.request("POST", `/setup/ws/1/logout${params}`, { body: "{}" });
    expect(again.status).toBe(421);
    expect(sim.stats(JANE).logouts).toBeGreaterThanOrEqual(1);
  });

  it("runs legacy 2SV: listDevices, sendVerificationCode, wrong and right code, then trusted", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn("twostep@example.com", "twostep")).status).toBe(200);
    const login = await client.accountLogin();
    expect(login.json).toMatchObject({ hsaChallengeRequired: true, dsInfo: { hsaVersion: 1 } });
    const dsid = String(dig(login.json, "dsInfo.dsid"));
    const q = `?clientBuildNumber=x&dsid=${dsid}`;
    const list = await client.request("GET", `/setup/ws/1/listDevices${q}`);
    expect(list.json).toEqual({
      devices: [
        { deviceType: "SMS", deviceId: "1", areaCode: "", phoneNumber: "*******58" },
        { deviceType: "IOS", deviceId: "2", deviceName: "Jane's iPad" },
      ],
    });
    const device = { deviceType: "SMS", areaCode: "", phoneNumber: "*******58", deviceId: "1" };
    expect((await client.request("POST", `/setup/ws/1/sendVerificationCode${q}`, { json: device })).json).toEqual({
      success: true,
    });
    expect(sim.deviceCode("twostep@example.com")).toMatchObject({ code: "4321", channel: "2sv" });
    const wrong = await client.request("POST", `/setup/ws/1/validateVerificationCode${q}`, {
      json: { ...device, verificationCode: "0000", trustBrowser: true },
    });
    expect(wrong.status).toBe(200);
    expect(wrong.json).toMatchObject({ success: false, errorCode: -21669 });
    const right = await client.request("POST", `/setup/ws/1/validateVerificationCode${q}`, {
      json: { ...device, verificationCode: "4321", trustBrowser: true },
    });
    expect(right.json).toEqual({ success: true });
    expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(404);
    const after = await client.accountLogin();
    expect(after.json).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true });
    // A fresh SRP sign-in from the same (trusted) browser is trusted too.
    await client.signIn("twostep@example.com", "twostep");
    expect((await client.accountLogin()).json).toMatchObject({ hsaChallengeRequired: false });
  });

  it("gives service modules an authenticate() that checks the web token and dsid", async () => {
    const seen: unknown[] = [];
    sim.addServices([
      (ctx) => [
        {
          id: "test.echo",
          method: "GET",
          path: "/test/echo",
          handle: (req) => {
            const account = ctx.authenticate(req);
            seen.push(ctx.accounts().length);
            return account ? { status: 200, json: account } : { status: 421, json: { success: false, error: 1 } };
          },
        },
      ],
    ]);
    const client = await trustedJane();
    expect((await client.request("GET", "/test/echo?dsid=12345678901")).status).toBe(200);
    // The web-auth cookies identify the user (icloudpd's zones/list has no query string at all).
    expect((await client.request("GET", "/test/echo")).json).toMatchObject({ dsid: "12345678901" });
    expect((await client.request("GET", "/test/echo?dsid=999")).status).toBe(200);
    const strict = await trustedJane(STRICT_JANE);
    expect((await strict.request("GET", "/test/echo?dsid=12345678902")).status).toBe(200);
    expect((await strict.request("GET", "/test/echo")).status).toBe(421);
    expect((await strict.request("GET", "/test/echo?dsid=999")).status).toBe(421);
    const pending = new TestClient(sim.url);
    await pending.signIn(JANE, JANE_PW);
    await pending.accountLogin();
    expect((await pending.request("GET", "/test/echo?dsid=12345678901")).status).toBe(421);
    const noWeb = new TestClient(sim.url);
    await noWeb.signIn("noweb@example.com", "noweb");
    const login = await noWeb.accountLogin();
    expect(dig(login.json, "dsInfo.isWebAccessAllowed")).toBe(false);
    const echoed = await noWeb.request("GET", `/test/echo?dsid=${String(dig(login.json, "dsInfo.dsid"))}`);
    expect(echoed.json).toMatchObject({ appleId: "noweb@example.com", webAccessDisabled: true });
    expect(seen.length).toBeGreaterThan(0);
  });
});
