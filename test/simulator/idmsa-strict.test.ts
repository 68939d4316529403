import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SrpClient } from "../../src/icloud/srp.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, PASSWORD, shownCode } from "../support/harness.ts";
import { dig, TestClient, WIDGET_HEADERS } from "../support/idmsa-client.ts";
import { openSession, simulator } from "../support/simulator.ts";

const JANE = "jane@example.com";
const STRICT = "strictctx@example.com";
const PHONES = [{ id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" as const }];
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await simulator([
    account(JANE, { mfa: { kind: "hsa2", code: "012345", trusted_phone_numbers: PHONES } }),
    account("strict@example.com", { mfa: { kind: "hsa2", trusted_phone_numbers: PHONES } }),
    account("resend@example.com", { mfa: { kind: "hsa2", code: "654321", trusted_phone_numbers: PHONES } }),
    account(STRICT, { strict: true, mfa: { kind: "hsa2", code: "012345", trusted_phone_numbers: PHONES } }),
  ]);
});
afterAll(async () => {
  await sim.close();
});

const TRIGGER = "/appleauth/auth/verify/trusteddevice/securitycode";

async function signedIn(appleId = JANE): Promise<TestClient> {
  const client = new TestClient(sim.url);
  expect((await client.signIn(appleId, PASSWORD)).status).toBe(409);
  return client;
}

describe("idmsa requires iCloud.com's widget key", () => {
  it("refuses signin/init and signin/complete without X-Apple-Widget-Key (401, no session headers)", async () => {
    const client = new TestClient(sim.url);
    const srp = new SrpClient(JANE);
    const body = { a: srp.publicKey, accountName: JANE, protocols: ["s2k", "s2k_fo"] };
    const bare = await client.request("POST", "/appleauth/auth/signin/init", { json: body, widget: false });
    expect(bare.status).toBe(401);
    expect(bare.json).toMatchObject({ hasError: true, serviceErrors: [{ code: "-20000" }] });
    expect(bare.headers.get("scnt")).toBeNull();
    const otherKey = await client.request("POST", "/appleauth/auth/signin/init", {
      json: body,
      headers: { "X-Apple-Widget-Key": "af1139274f266b22b68c2a3e7ad932cb3c0bbe854e13a79af78dcc73136882c3" },
    });
    expect(otherKey.status).toBe(401);

    const init = await client.request("POST", "/appleauth/auth/signin/init", { json: body });
    expect(init.status).toBe(200);
    const challenge = init.json as { salt: string; b: string; c: string; iteration: number; protocol: "s2k" };
    const proof = srp.computeProof(PASSWORD, challenge);
    const completeBody = { accountName: JANE, c: challenge.c, m1: proof.m1, m2: proof.m2, rememberMe: true };
    const path = "/appleauth/auth/signin/complete?isRememberMeEnabled=true";
    expect((await client.request("POST", path, { json: completeBody, widget: false })).status).toBe(401);
    // The refused call consumed nothing: the same exchange still completes with the widget key.
    expect((await client.request("POST", path, { json: completeBody })).status).toBe(409);
  });

  it("refuses the MFA, trust and auth-options calls without it, but needs no browser-only headers", async () => {
    const client = await signedIn();
    const scnt = client.session["scnt"];
    expect((await client.request("GET", "/appleauth/auth", { widget: false })).status).toBe(401);
    expect((await client.request("PUT", TRIGGER, { widget: false })).status).toBe(401);
    expect((await client.request("GET", "/appleauth/auth/2sv/trust", { widget: false })).status).toBe(401);
    expect((await client.request("POST", "/appleauth/auth/repair/complete", { json: {}, widget: false })).status).toBe(
      401,
    );
    expect(client.session["scnt"]).toBe(scnt);
    // Only the widget key is required (no X-Apple-Domain-Id, X-Requested-With, X-APPLE-HC, FD client info, Origin).
    const onlyKey = await client.request("PUT", TRIGGER, {
      widget: false,
      headers: { "X-Apple-Widget-Key": WIDGET_HEADERS["X-Apple-Widget-Key"] ?? "" },
    });
    expect(onlyKey.status).toBe(202);
    // The browser page before sign-in is not a widget call.
    expect(
      (await new TestClient(sim.url).request("GET", "/appleauth/auth/authorize/signin", { widget: false })).status,
    ).toBe(200);
  });
});

async function initFor(client: TestClient, appleId: string, srp = new SrpClient(appleId)) {
  const answer = await client.request("POST", "/appleauth/auth/signin/init", {
    json: { a: srp.publicKey, accountName: appleId, protocols: ["s2k"] },
  });
  const challenge = answer.json as { salt: string; b: string; c: string; iteration: number; protocol: "s2k" };
  const proof = srp.computeProof(PASSWORD, challenge);
  return { accountName: appleId, c: challenge.c, m1: proof.m1, m2: proof.m2, rememberMe: true, trustTokens: [] };
}
const COMPLETE = "/appleauth/auth/signin/complete?isRememberMeEnabled=true";

describe("lenient (default): signin/complete is tied to its signin/init by c", () => {
  it("accepts a proof sent with signin/init's own headers: no scnt, no session id, only aasp (pyicloud)", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, JANE);
    const aasp = client.cookies.get("aasp")?.value ?? "";
    const pyicloud = new TestClient(sim.url);
    pyicloud.cookies.set("aasp", { value: aasp });
    const answer = await pyicloud.request("POST", COMPLETE, { json: body });
    expect(answer.status).toBe(409);
    expect(answer.headers.get("x-apple-id-session-id")).toBe(client.session["sessionId"]);
  });

  it("accepts it with no session headers or cookies at all, and with a stale scnt", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, JANE);
    expect((await new TestClient(sim.url).request("POST", COMPLETE, { json: body })).status).toBe(409);
    const stale = new TestClient(sim.url);
    const second = await initFor(stale, JANE);
    stale.session["scnt"] = "AAAA-stale";
    expect((await stale.request("POST", COMPLETE, { json: second })).status).toBe(409);
  });

  it("still refuses a replayed or unknown c (400) and a wrong proof (401 -20101)", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, JANE);
    expect((await client.request("POST", COMPLETE, { json: body })).status).toBe(409);
    const replay = await client.request("POST", COMPLETE, { json: body });
    expect(replay.status).toBe(400);
    expect((await client.request("POST", COMPLETE, { json: { ...body, c: "d-1-unknown:MSA" } })).status).toBe(400);
    const wrong = await initFor(client, JANE);
    const bad = await client.request("POST", COMPLETE, { json: { ...wrong, m1: wrong.m2 } });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ serviceErrors: [{ code: "-20101" }] });
  });
});

describe("strict (opt-in): signin/complete needs the auth context signin/init answered with", () => {
  it("refuses a proof without scnt / X-Apple-ID-Session-Id (401 like the MFA routes)", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, STRICT);
    const bare = new TestClient(sim.url);
    const refused = await bare.request("POST", COMPLETE, { json: body });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ hasError: true, serviceErrors: [{ code: "-20000" }] });
  });

  it("refuses a right M1 sent with a tampered M2 (401 -20101, like a wrong password)", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, JANE);
    const failures = sim.stats(JANE).srp_failures;
    const m2 = Buffer.from(body.m2, "base64");
    m2[0] = (m2[0] ?? 0) ^ 1;
    const refused = await client.request("POST", COMPLETE, { json: { ...body, m2: m2.toString("base64") } });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ serviceErrors: [{ code: "-20101" }] });
    expect(sim.stats(JANE).srp_failures).toBe(failures + 1);
  });

  it("refuses a stale scnt and another auth context's session id", async () => {
    const client = new TestClient(sim.url);
    const body = await initFor(client, STRICT);
    const fresh = client.session["scnt"] ?? "";
    client.session["scnt"] = "AAAA-stale";
    expect((await client.request("POST", COMPLETE, { json: body })).status).toBe(401);

    const other = new TestClient(sim.url);
    await initFor(other, STRICT);
    const stolen = new TestClient(sim.url);
    Object.assign(stolen.session, other.session);
    expect((await stolen.request("POST", COMPLETE, { json: body })).status).toBe(401);

    // With its own context the exchange still completes (the refused calls did not consume it).
    client.session["scnt"] = fresh;
    expect((await client.request("POST", COMPLETE, { json: body })).status).toBe(409);
  });

  it("a scenario-wide strict: true applies to every account unless one sets strict: false", async () => {
    const strictSim = await simulator(
      [
        account("a@example.com", { mfa: { kind: "none" } }),
        account("b@example.com", { strict: false, mfa: { kind: "none" } }),
      ],
      { strict: true },
    );
    try {
      const a = new TestClient(strictSim.url);
      expect(
        (await new TestClient(strictSim.url).request("POST", COMPLETE, { json: await initFor(a, "a@example.com") }))
          .status,
      ).toBe(401);
      const b = new TestClient(strictSim.url);
      expect(
        (await new TestClient(strictSim.url).request("POST", COMPLETE, { json: await initFor(b, "b@example.com") }))
          .status,
      ).toBe(200);
    } finally {
      await strictSim.close();
    }
  });
});

describe("code limits per sign-in", () => {
  const verify = (client: TestClient, code: string) =>
    client.request("POST", TRIGGER, { json: { securityCode: { code } } });

  it("locks code entry after five wrong codes, even for the right code", async () => {
    const client = await signedIn();
    await client.request("PUT", TRIGGER);
    for (let i = 0; i < 5; i++) {
      const wrong = await verify(client, "999999");
      expect(wrong.status).toBe(400);
      expect(wrong.headers.get("x-apple-i-ercd")).toBe("-21669");
    }
    const locked = await verify(client, "012345");
    expect(locked.status).toBe(400);
    expect(locked.headers.get("x-apple-i-ercd")).toBe("-21690");
    expect(locked.json).toMatchObject({
      hasError: true,
      service_errors: [{ code: "-21690" }],
      securityCode: { securityCodeLocked: true, tooManyCodesValidated: true, tooManyCodesSent: false },
    });
    const page = await client.request("GET", "/appleauth/auth");
    expect(dig(page.json, "securityCode.securityCodeLocked")).toBe(true);
    const sms = await client.request("POST", "/appleauth/auth/verify/phone/securitycode", {
      json: { phoneNumber: { id: 1 }, securityCode: { code: "012345" }, mode: "sms" },
    });
    expect(sms.headers.get("x-apple-i-ercd")).toBe("-21690");
    expect((await client.request("GET", "/appleauth/auth/2sv/trust")).status).toBe(401);

    // A new sign-in starts counting afresh.
    expect((await client.signIn(JANE, PASSWORD)).status).toBe(409);
    await client.request("PUT", TRIGGER);
    expect((await verify(client, "012345")).status).toBe(204);
  });

  it("refuses the eleventh code sent (devices, SMS and voice count together)", async () => {
    const client = await signedIn("strict@example.com");
    for (let i = 0; i < 7; i++) expect((await client.request("PUT", TRIGGER)).status).toBe(202);
    for (const mode of ["sms", "voice", "sms"]) {
      const sent = await client.request("PUT", "/appleauth/auth/verify/phone", {
        json: { phoneNumber: { id: 1 }, mode },
      });
      expect(sent.status).toBe(200);
    }
    expect(sim.stats("strict@example.com").codes_sent).toMatchObject({ device: 7, sms: 2, voice: 1 });
    const state = await client.request("GET", "/appleauth/auth");
    expect(dig(state.json, "securityCode.tooManyCodesSent")).toBe(true);
    const refused = await client.request("PUT", TRIGGER);
    expect(refused.status).toBe(400);
    expect(refused.headers.get("x-apple-i-ercd")).toBe("-21691");
    expect(refused.json).toMatchObject({ hasError: true, securityCode: { tooManyCodesSent: true } });
    const sms = await client.request("PUT", "/appleauth/auth/verify/phone", {
      json: { phoneNumber: { id: 1 }, mode: "sms" },
    });
    expect(sms.status).toBe(400);
    expect(sim.stats("strict@example.com").codes_sent).toMatchObject({ device: 7, sms: 2, voice: 1 });
  });
});

describe("the client reports code limits as a clear, non-retryable error", () => {
  it("the sixth wrong code reports the lock instead of another code-invalid", async () => {
    const session = await openSession(sim, JANE);
    expect(await session.signIn()).toMatchObject({ error: "code-required" });
    for (let i = 0; i < 5; i++) {
      expect(await session.submitCode("999999")).toMatchObject({ error: "code-invalid", awaiting: "code" });
    }
    const locked = await session.submitCode("999999");
    expect(locked).toMatchObject({ state: "failed", error: "rate-limited", awaiting: null });
    expect(locked.message).toMatch(/too many incorrect verification codes/i);
    expect(locked.message).toMatch(/wait/i);
    expect(session.error?.retryable).toBe(false);
    expect(session.error?.info["reason"]).toBe("security-code-locked");
  });

  it("the eleventh code sent reports the limit; a code already received still works", async () => {
    const appleId = "resend@example.com";
    const session = await openSession(sim, appleId);
    expect(await session.signIn()).toMatchObject({ error: "code-required" }); // send 1
    for (let i = 0; i < 9; i++) {
      expect(await session.requestCode({ method: i % 2 === 0 ? "device" : "sms" })).toMatchObject({
        error: "code-required",
      });
    }
    const limited = await session.requestCode({ method: "device" }); // send 11
    expect(limited).toMatchObject({ state: "failed", error: "rate-limited", awaiting: "code" });
    expect(limited.message).toMatch(/too many verification codes/i);
    expect(session.error?.retryable).toBe(false);
    expect(session.error?.info["reason"]).toBe("too-many-codes-sent");
    const done = await session.submitCode(shownCode(sim, appleId));
    expect(done.state).toBe("active");
  });
});
