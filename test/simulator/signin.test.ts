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

function bootArgs(html: string): unknown {
  const match = /<script type="application\/json" class="boot_args">([\s\S]*?)<\/script>/.exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!);
}

describe("idmsa sign-in (HSA2)", () => {
  it("runs the whole flow: init, 409, auth page, trigger, wrong and right code, trust, accountLogin", async () => {
    const client = new TestClient(sim.url);
    const complete = await client.signIn(JANE, JANE_PW);
    expect(complete.status).toBe(409);
    expect(complete.json).toEqual({ authType: "hsa2" });
    expect(complete.headers.get("content-type")).toBe("application/json;charset=UTF-8");
    expect(complete.headers.get("x-apple-twosv-trust-eligible")).toBe("true");
    expect(complete.headers.get("x-apple-auth-attributes")).toBeTruthy();
    expect(complete.headers.get("location")).toBe("/auth");
    expect(complete.headers.get("x-apple-id-account-country")).toBe("USA");
    expect(complete.headers.get("x-apple-session-token")).toBeTruthy();
    expect(client.cookies.get("aasp")?.value).toBe(client.session["sessionId"]);

    const page = await client.request("GET", "/appleauth/auth", { headers: { Accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const args = bootArgs(page.text);
    const phones = dig(args, "direct.twoSV.phoneNumberVerification.trustedPhoneNumbers") as unknown[];
    expect(phones).toHaveLength(2);
    expect(phones[0]).toEqual({
      id: 1,
      numberWithDialCode: "+1 (•••) •••-••80",
      pushMode: "sms",
      obfuscatedNumber: "(•••) •••-••80",
      lastTwoDigits: "80",
    });
    expect(dig(args, "direct.twoSV.bridgeInitiateData")).toBeUndefined();

    expect(sim.deviceCode(JANE)).toBeUndefined();
    const trigger = await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
    expect([202, 204]).toContain(trigger.status);
    expect(sim.deviceCode(JANE)).toMatchObject({ code: "012345", channel: "device" });

    const wrong = await client.request("POST", "/appleauth/auth/verify/trusteddevice/securitycode", {
      json: { securityCode: { code: "12345" } },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("x-apple-i-ercd")).toBe("-21669");
    expect(wrong.json).toMatchObject({ hasError: true, service_errors: [{ code: "-21669" }] });

    const before = client.session["sessionToken"];
    const right = await client.request("POST", "/appleauth/auth/verify/trusteddevice/securitycode", {
      json: { securityCode: { code: "012345" } },
    });
    expect(right.status).toBe(204);
    expect(right.headers.get("x-apple-session-token")).not.toBe(before);
    expect(right.headers.get("x-apple-oauth-grant-code")).toBeTruthy();

    const trust = await client.request("GET", "/appleauth/auth/2sv/trust");
    expect(trust.status).toBe(204);
    expect(trust.headers.get("x-apple-twosv-trust-token")).toMatch(/^HSARMTKNSRVW/);
    expect(trust.headers.get("x-apple-session-token")).toBeTruthy();

    const login = await client.accountLogin();
    expect(login.status).toBe(200);
    expect(login.json["hsaTrustedBrowser"]).toBe(true);
    expect(login.json["hsaChallengeRequired"]).toBe(false);
    const dsInfo = login.json["dsInfo"] as Record<string, unknown>;
    expect(dsInfo).toMatchObject({ dsid: "12345678901", hsaVersion: 2, appleId: JANE, firstName: "Jane" });
    const cookies = login.headers.getSetCookie();
    const hsaLogin = cookies.find((line) => line.startsWith("X-APPLE-WEBAUTH-HSA-LOGIN="));
    expect(hsaLogin).toContain("Expires=Thu, 01 Jan 1970");
    expect(cookies.some((line) => line.startsWith('X-APPLE-WEBAUTH-TOKEN="v=2:t='))).toBe(true);
    expect(cookies.find((line) => line.startsWith("X-APPLE-WEBAUTH-HSA-TRUST="))).toMatch(/Expires=/);
    expect(cookies.every((line) => !/domain=/i.test(line) && line.includes("Path=/"))).toBe(true);
    expect(cookies.every((line) => !line.includes("Secure"))).toBe(true);
    expect((login.json["webservices"] as Record<string, { url: string }>)["findme"]?.url).toBe(sim.url);

    // Next sign-in with the stored trust token: 200, no second factor.
    const again = new TestClient(sim.url);
    again.session["trustToken"] = client.session["trustToken"]!;
    const trusted = await again.signIn(JANE, JANE_PW);
    expect(trusted.status).toBe(200);
    expect(trusted.headers.get("x-apple-session-token")).toBeTruthy();
    const relogin = await again.accountLogin();
    expect(relogin.json).toMatchObject({ hsaTrustedBrowser: true, hsaChallengeRequired: false });
  });

  it("puts the phone list where the 2026 layout does", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn("bridge@example.com", "bridge-password")).status).toBe(409);
    const page = await client.request("GET", "/appleauth/auth", { headers: { Accept: "text/html" } });
    const twoSV = dig(bootArgs(page.text), "direct.twoSV");
    expect(dig(twoSV, "phoneNumberVerification.trustedPhoneNumbers")).toBeUndefined();
    expect(dig(twoSV, "bridgeInitiateData.phoneNumberVerification.trustedPhoneNumbers.0")).toMatchObject({
      id: 3,
      lastTwoDigits: "07",
    });
    const json = await client.request("GET", "/appleauth/auth", { headers: { Accept: "application/json" } });
    expect(json.json["trustedPhoneNumbers"]).toBeUndefined();
  });

  it("sends and checks SMS codes; random codes keep leading zeros as strings", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn("bridge@example.com", "bridge-password")).status).toBe(409);
    const unknown = await client.request("PUT", "/appleauth/auth/verify/phone", {
      json: { phoneNumber: { id: 99 }, mode: "sms" },
    });
    expect(unknown.status).toBe(400);
    const sent = await client.request("PUT", "/appleauth/auth/verify/phone", {
      json: { phoneNumber: { id: 3 }, mode: "sms" },
    });
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ trustedPhoneNumber: { id: 3 }, securityCode: { length: 6 } });
    const shown = sim.deviceCode("bridge@example.com");
    expect(shown?.channel).toBe("sms");
    expect(shown?.code).toMatch(/^\d{6}$/);
    const wrongCode = shown!.code === "999999" ? "999998" : "999999";
    const body = (code: string) => ({ phoneNumber: { id: 3 }, securityCode: { code }, mode: "sms" });
    const wrong = await client.request("POST", "/appleauth/auth/verify/phone/securitycode", { json: body(wrongCode) });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get("x-apple-i-ercd")).toBe("-21669");
    const ok = await client.request("POST", "/appleauth/auth/verify/phone/securitycode", { json: body(shown!.code) });
    expect(ok.status).toBe(200);
    expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(204);
    expect(sim.stats("bridge@example.com").codes_sent.sms).toBeGreaterThanOrEqual(1);
  });

  it("refuses MFA calls without an auth context; accepts an older scnt of it (icloudpd)", async () => {
    const bare = new TestClient(sim.url);
    expect((await bare.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode")).status).toBe(401);
    const client = new TestClient(sim.url);
    await client.signIn(JANE, JANE_PW);
    const stale = client.session["scnt"];
    expect((await client.request("GET", "/appleauth/auth", { headers: { Accept: "text/html" } })).status).toBe(200);
    expect(client.session["scnt"]).not.toBe(stale);
    client.session["scnt"] = stale!;
    expect((await client.request("GET", "/appleauth/auth")).status).toBe(200);
    // Another session id names no auth context; the aasp cookie still does (icloud-photos-sync).
    client.session["sessionId"] = "not-a-session";
    expect((await client.request("GET", "/appleauth/auth")).status).toBe(200);
    client.cookies.delete("aasp");
    client.session["sessionId"] = "not-a-session";
    expect((await client.request("GET", "/appleauth/auth")).status).toBe(401);
  });

  it("strict: refuses MFA calls with a stale scnt", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn("strict-jane@example.com", JANE_PW)).status).toBe(409);
    const stale = client.session["scnt"];
    expect((await client.request("GET", "/appleauth/auth", { headers: { Accept: "text/html" } })).status).toBe(200);
    client.session["scnt"] = stale!;
    expect((await client.request("GET", "/appleauth/auth")).status).toBe(401);
  });

  it("only trusts after a verified code", async () => {
    const client = new TestClient(sim.url);
    await client.signIn(JANE, JANE_PW);
    expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(401);
  });

  it("answers 401 -20101 for a wrong password and 403 -20209 for a locked account", async () => {
    const wrong = await new TestClient(sim.url).signIn(JANE, "not the password");
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ serviceErrors: [{ code: "-20101" }] });
    const unknown = await new TestClient(sim.url).signIn("nobody@example.com", "x");
    expect(unknown.status).toBe(401);
    const locked = await new TestClient(sim.url).signIn("locked@example.com", "locked");
    expect(locked.status).toBe(403);
    expect(locked.json).toMatchObject({ serviceErrors: [{ code: "-20209" }] });
  });

  it("speaks s2k_fo and answers 200 for an account without 2FA", async () => {
    const client = new TestClient(sim.url);
    const done = await client.signIn("fo@example.com", "fo password", ["s2k_fo"]);
    expect(done.status).toBe(200);
    const login = await client.accountLogin();
    expect(login.json).toMatchObject({ hsaChallengeRequired: false, dsInfo: { hsaVersion: 0 } });
  });

  it("answers 400 to a malformed or replayed proof", async () => {
    const client = new TestClient(sim.url);
    const bad = await client.request("POST", "/appleauth/auth/signin/complete?isRememberMeEnabled=true", {
      json: { accountName: JANE, c: "x" },
    });
    expect(bad.status).toBe(400);
    const init = await client.request("POST", "/appleauth/auth/signin/init", {
      json: { a: "!!", accountName: JANE, protocols: ["s2k"] },
    });
    expect(init.status).toBe(400);
  });

  it("asks for repair with 412 and accepts repair/complete", async () => {
    const client = new TestClient(sim.url);
    const repair = await client.signIn("repair@example.com", "repair");
    expect(repair.status).toBe(412);
    expect(repair.headers.get("x-apple-repair-session-token")).toBeTruthy();
    const restricted = await client.accountLogin();
    expect(restricted.json["isRepairNeeded"]).toBe(true);
    const done = await client.request("POST", "/appleauth/auth/repair/complete", { json: {} });
    expect(done.status).toBe(204);
    const login = await new TestClient(sim.url).request("POST", "/setup/ws/1/accountLogin", {
      json: { accountCountryCode: "USA", dsWebAuthToken: client.session["sessionToken"], extended_login: true },
    });
    expect(login.json["isRepairNeeded"]).toBe(false);
  });

  it("adds the FIDO challenge for security-key accounts", async () => {
    const answer = await new TestClient(sim.url).signIn("keyholder@example.com", "keyholder");
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({
      authType: "hsa2",
      fsaChallenge: { rpId: "apple.com" },
      keyNames: ["Security Key"],
    });
  });

  it("serves the optional authorize page, 503 for plaintext signin and 404 for unknown paths", async () => {
    const client = new TestClient(sim.url);
    const page = await client.request("GET", "/appleauth/auth/authorize/signin?frame_id=x", {
      headers: { Accept: "text/html" },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get("scnt")).toBeTruthy();
    expect(page.headers.get("x-apple-id-session-id")).toBeTruthy();
    expect((await client.signIn(JANE, JANE_PW)).status).toBe(409);
    const legacy = await client.request("POST", "/appleauth/auth/signin?isRememberMeEnabled=true", { json: {} });
    expect(legacy.status).toBe(503);
    expect(legacy.text).toBe("Service Temporarily Unavailable");
    expect((await client.request("GET", "/nothing/here")).status).toBe(404);
  });

  it("answers 412 after a phone code when the account also needs repair", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn("hsa2repair@example.com", "hsa2repair")).status).toBe(409);
    await client.request("PUT", "/appleauth/auth/verify/phone", { json: { phoneNumber: { id: 7 }, mode: "voice" } });
    expect(sim.deviceCode("hsa2repair@example.com")).toMatchObject({ code: "654321", channel: "voice" });
    const verify = await client.request("POST", "/appleauth/auth/verify/phone/securitycode", {
      json: { phoneNumber: { id: 7 }, securityCode: { code: "654321" }, mode: "voice" },
    });
    expect(verify.status).toBe(412);
    expect(verify.headers.get("x-apple-repair-session-token")).toBeTruthy();
    expect((await client.request("POST", "/appleauth/auth/repair/complete", { json: {} })).status).toBe(204);
    expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(204);
    const login = await client.accountLogin();
    expect(login.json).toMatchObject({ hsaChallengeRequired: false, hsaTrustedBrowser: true, isRepairNeeded: false });
  });

  it("refuses a code after it expired or was used", async () => {
    const client = new TestClient(sim.url);
    expect((await client.signIn(JANE, JANE_PW)).status).toBe(409);
    const verify = () =>
      client.request("POST", "/appleauth/auth/verify/trusteddevice/securitycode", {
        json: { securityCode: { code: "012345" } },
      });
    expect((await verify()).status).toBe(400); // no device showed a code yet
    await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
    sim.clock.advance(11 * 60_000);
    expect((await verify()).status).toBe(400);
    await client.request("PUT", "/appleauth/auth/verify/trusteddevice/securitycode");
    expect((await verify()).status).toBe(204);
    expect((await verify()).status).toBe(400);
  });
});
