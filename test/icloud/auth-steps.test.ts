import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isEngineError } from "../../src/errors.ts";
import type { AuthContext } from "../../src/icloud/auth-context.ts";
import {
  accountLogin,
  codeLimitError,
  fetchAuthOptions,
  fetchTrust,
  listTwoSvDevices,
  repairComplete,
  requestPhoneCode,
  sendTwoSvCode,
  srpSignIn,
  submitHsa2Code,
  triggerDeviceCode,
  validateSession,
  validateTwoSvCode,
} from "../../src/icloud/auth-steps.ts";
import { resolveEndpoints } from "../../src/icloud/endpoints.ts";
import { HttpClient, type HttpResponse } from "../../src/icloud/http.ts";
import type { Logger } from "../../src/logger.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, PASSWORD } from "../support/harness.ts";
import { RecordingAgent } from "../support/recording-agent.ts";
import { simulator } from "../support/simulator.ts";

const PLAIN = "plain@example.com";
const HSA = "hsa@example.com";
const TWOSV = "twosv@example.com";
const PHONES = [{ id: 3, number: "+1 (•••) •••-••80", push_mode: "sms" as const }];
const TWOSV_DEVICE = { device_id: "1", device_type: "SMS", phone_number: "********58", area_code: "" };

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await simulator([
    account(PLAIN, { mfa: { kind: "none" } }),
    account(HSA, { mfa: { kind: "hsa2", code: "123456", trusted_phone_numbers: PHONES } }),
    account("repair@example.com", { mfa: { kind: "none" }, repair_needed: true }),
    account("key@example.com", { mfa: { kind: "hsa2" }, security_key: true }),
    account(TWOSV, { mfa: { kind: "2sv", devices_2sv: [TWOSV_DEVICE] } }),
  ]);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.faults.clear();
});

type Line = [level: string, message: string, context: Record<string, unknown> | undefined];

/** A real sign-in context against the simulator, its requests recorded on the wire. */
function context(username: string) {
  const agent = new RecordingAgent();
  const lines: Line[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (m, c) => void lines.push(["info", m, c]),
    warn: (m, c) => void lines.push(["warn", m, c]),
    error: (m, c) => void lines.push(["error", m, c]),
    child: () => log,
  };
  let persisted = 0;
  const ctx: AuthContext = {
    http: new HttpClient({ dispatcher: agent, backoff: { tries: 2, baseMs: 1 }, sleep: async () => undefined }),
    endpoints: resolveEndpoints({ endpoint: sim.url }),
    data: { version: 1, username, client_id: "auth-00000000-0000-4000-8000-000000000000", srp_sign_ins: 0 },
    log,
    persist: async () => {
      persisted++;
    },
  };
  return { ctx, agent, lines, persisted: () => persisted };
}

const fault = (spec: FaultSpec) => sim.faults.add({ times: 1, ...spec });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
const served = (route: string) => sim.requests().filter((r) => r.route === route).length;

/** A signed-in idmsa context of the hsa2 account (waiting for its code). */
async function awaitingCode() {
  const c = context(HSA);
  expect(await srpSignIn(c.ctx, PASSWORD)).toBe("hsa2");
  return c;
}

describe("srpSignIn", () => {
  it("sends iCloud.com's init and complete bodies, counts and logs the sign-in", async () => {
    const { ctx, agent, lines, persisted } = context(PLAIN);
    expect(await srpSignIn(ctx, PASSWORD)).toBe("signed-in");
    const [init, complete] = agent.requests;
    expect(init).toMatchObject({
      method: "POST",
      path: "/appleauth/auth/signin/init",
      body: { a: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/), accountName: PLAIN, protocols: ["s2k", "s2k_fo"] },
    });
    expect(complete).toMatchObject({
      method: "POST",
      path: "/appleauth/auth/signin/complete?isRememberMeEnabled=true",
    });
    expect(Object.keys(complete?.body as object).sort()).toEqual([
      "accountName",
      "c",
      "m1",
      "m2",
      "rememberMe",
      "trustTokens",
    ]);
    expect(complete?.body).toMatchObject({ accountName: PLAIN, rememberMe: true, trustTokens: [] });
    expect(agent.requests).toHaveLength(2);
    expect(ctx.data.srp_sign_ins).toBe(1);
    expect(ctx.data.session_token).toEqual(expect.any(String));
    expect(persisted()).toBe(2);
    expect(lines).toEqual([["info", "signing in with SRP", { srp_sign_ins: 1 }]]);
  });

  it("sends the stored trust token; an untrusted hsa2 account needs a code", async () => {
    const { ctx, agent } = context(HSA);
    ctx.data.trust_token = "HSARMTKNSRVXWFlaunknowntoken";
    ctx.data.srp_sign_ins = 4;
    expect(await srpSignIn(ctx, PASSWORD)).toBe("hsa2");
    expect(agent.to("/signin/complete")[0]?.body).toMatchObject({ trustTokens: ["HSARMTKNSRVXWFlaunknowntoken"] });
    expect(ctx.data.srp_sign_ins).toBe(5);
  });

  it("tells repair, security keys and a wrong password apart", async () => {
    expect(await srpSignIn(context("repair@example.com").ctx, PASSWORD)).toBe("repair");
    const key = await failure(srpSignIn(context("key@example.com").ctx, PASSWORD));
    expect(isEngineError(key, "SECURITY_KEY_REQUIRED")).toBe(true);
    expect(key).toMatchObject({
      message: "This account uses security keys for two-factor authentication, which the bridge cannot use",
    });
    // A 409 without a JSON object (null, text) is the usual code request.
    for (const body of [null, "conflict"]) {
      fault({ endpoint: "idmsa.signin.complete", kind: "status", status: 409, body });
      expect(await srpSignIn(context(PLAIN).ctx, PASSWORD)).toBe("hsa2");
    }
    const wrong = await failure(srpSignIn(context(PLAIN).ctx, "not the password"));
    expect(isEngineError(wrong, "INVALID_CREDENTIALS")).toBe(true);
    expect(wrong).toMatchObject({ message: "Apple rejected the username or password", info: { status: 401 } });
  });

  it("names the step of an unexpected answer, and never sends signin/complete twice", async () => {
    fault({ endpoint: "idmsa.signin.init", kind: "status", status: 500 });
    expect(await failure(srpSignIn(context(PLAIN).ctx, PASSWORD))).toMatchObject({
      code: "UNEXPECTED_RESPONSE",
      message: "signin/init: unexpected answer HTTP 500",
    });
    fault({ endpoint: "idmsa.signin.init", kind: "status", status: 200, body: { salt: "c2FsdA==" } });
    expect(await failure(srpSignIn(context(PLAIN).ctx, PASSWORD))).toMatchObject({
      code: "UNEXPECTED_RESPONSE",
      message: "signin/init: answer did not have the expected shape",
      info: { status: 200 },
    });
    fault({ endpoint: "idmsa.signin.complete", kind: "status", status: 500 });
    expect(await failure(srpSignIn(context(PLAIN).ctx, PASSWORD))).toMatchObject({
      message: "signin/complete: unexpected answer HTTP 500",
    });
    const before = served("idmsa.signin.complete");
    fault({ endpoint: "idmsa.signin.complete", kind: "reset" });
    expect(await failure(srpSignIn(context(PLAIN).ctx, PASSWORD))).toMatchObject({ code: "NETWORK" });
    expect(served("idmsa.signin.complete")).toBe(before + 1);
  });
});

describe("repairComplete", () => {
  it("posts {} once; any 2xx is done, anything else an error", async () => {
    const { ctx, agent } = context("repair@example.com");
    expect(await srpSignIn(ctx, PASSWORD)).toBe("repair");
    await repairComplete(ctx);
    expect(agent.to("/repair/complete")).toMatchObject([{ method: "POST", body: {} }]);
    for (const status of [200, 299]) {
      fault({ endpoint: "idmsa.repair.complete", kind: "status", status, body: {} });
      await repairComplete(ctx);
    }
    fault({ endpoint: "idmsa.repair.complete", kind: "status", status: 300, body: {} });
    expect(await failure(repairComplete(ctx))).toMatchObject({
      message: "repair/complete: unexpected answer HTTP 300",
    });
    fault({ endpoint: "idmsa.repair.complete", kind: "reset" });
    const before = served("idmsa.repair.complete");
    expect(await failure(repairComplete(ctx))).toMatchObject({ code: "NETWORK" });
    expect(served("idmsa.repair.complete")).toBe(before + 1);
  });
});

describe("MFA steps", () => {
  it("reads the auth options as the HTML page", async () => {
    const { ctx, agent } = await awaitingCode();
    const options = await fetchAuthOptions(ctx);
    expect(options.trustedPhoneNumbers.map((p) => p.id)).toEqual([3]);
    expect(agent.to("/appleauth/auth").at(-1)).toMatchObject({ method: "GET" });
    expect(agent.to("/appleauth/auth").at(-1)?.headers["accept"]).toBe("text/html");
    fault({ endpoint: "idmsa.auth", kind: "status", status: 300, body: "<html></html>" });
    expect(await failure(fetchAuthOptions(ctx))).toMatchObject({ message: "auth options: unexpected answer HTTP 300" });
    fault({ endpoint: "idmsa.auth", kind: "status", status: 299, body: "<html></html>" });
    expect(await fetchAuthOptions(ctx)).toMatchObject({ trustedPhoneNumbers: [] });
  });

  it("triggers the device code: 2xx and 412 shown, 400/404 not possible, limits and others are errors", async () => {
    const { ctx, agent } = await awaitingCode();
    expect(await triggerDeviceCode(ctx)).toBe(true);
    expect(agent.to("/verify/trusteddevice/securitycode").at(-1)).toMatchObject({ method: "PUT", body: undefined });
    const cases: Array<[number, boolean]> = [
      [200, true],
      [299, true],
      [412, true],
      [400, false],
      [404, false],
    ];
    for (const [status, shown] of cases) {
      fault({ endpoint: "idmsa.trusteddevice.trigger", kind: "status", status, body: {} });
      expect(await triggerDeviceCode(ctx), String(status)).toBe(shown);
    }
    for (const status of [300, 403, 500]) {
      fault({ endpoint: "idmsa.trusteddevice.trigger", kind: "status", status, body: {} });
      expect(await failure(triggerDeviceCode(ctx))).toMatchObject({
        message: `trigger device code: unexpected answer HTTP ${status}`,
      });
    }
    fault({
      endpoint: "idmsa.trusteddevice.trigger",
      kind: "status",
      status: 400,
      body: { securityCode: { tooManyCodesSent: true } },
    });
    expect(await failure(triggerDeviceCode(ctx))).toMatchObject({
      code: "RATE_LIMITED",
      info: { reason: "too-many-codes-sent" },
    });
  });

  it("requests a phone code by SMS or voice: 2xx done, limits and others are errors", async () => {
    const { ctx, agent } = await awaitingCode();
    await requestPhoneCode(ctx, 3, "sms");
    await requestPhoneCode(ctx, 3, "voice");
    expect(agent.to("/verify/phone").map((r) => [r.method, r.body])).toEqual([
      ["PUT", { phoneNumber: { id: 3 }, mode: "sms" }],
      ["PUT", { phoneNumber: { id: 3 }, mode: "voice" }],
    ]);
    for (const status of [200, 299]) {
      fault({ endpoint: "idmsa.phone.request", kind: "status", status, body: {} });
      await requestPhoneCode(ctx, 3, "sms");
    }
    fault({ endpoint: "idmsa.phone.request", kind: "status", status: 300, body: {} });
    expect(await failure(requestPhoneCode(ctx, 3, "voice"))).toMatchObject({
      message: "request voice code: unexpected answer HTTP 300",
    });
    fault({
      endpoint: "idmsa.phone.request",
      kind: "status",
      status: 423,
      body: { phoneNumberVerification: { securityCode: { tooManyCodesSent: true } } },
    });
    expect(await failure(requestPhoneCode(ctx, 3, "sms"))).toMatchObject({
      code: "RATE_LIMITED",
      info: { reason: "too-many-codes-sent" },
    });
  });

  it("submits a code by device or phone: right, wrong (by header or body), repair, limits, errors", async () => {
    const { ctx, agent } = await awaitingCode();
    expect(await submitHsa2Code(ctx, "000000", { method: "device" })).toBe(false);
    expect(await submitHsa2Code(ctx, "000000", { method: "sms", phoneId: 3 })).toBe(false);
    expect(agent.to("/verify/trusteddevice/securitycode").at(-1)).toMatchObject({
      method: "POST",
      body: { securityCode: { code: "000000" } },
    });
    expect(agent.to("/verify/phone/securitycode").at(-1)).toMatchObject({
      method: "POST",
      body: { phoneNumber: { id: 3 }, securityCode: { code: "000000" }, mode: "sms" },
    });
    const verify = "idmsa.trusteddevice.verify";
    fault({ endpoint: verify, kind: "status", status: 400, headers: { "X-Apple-I-Ercd": "-21669" }, body: {} });
    expect(await submitHsa2Code(ctx, "111111", { method: "device" })).toBe(false);
    fault({ endpoint: verify, kind: "status", status: 400, body: { service_errors: [{ code: "-21669" }] } });
    expect(await submitHsa2Code(ctx, "111111", { method: "device" })).toBe(false);
    fault({ endpoint: verify, kind: "status", status: 400, headers: { "X-Apple-I-Ercd": "-20000" }, body: {} });
    expect(await failure(submitHsa2Code(ctx, "111111", { method: "device" }))).toMatchObject({
      message: "verify security code: unexpected answer HTTP 400",
    });
    fault({ endpoint: verify, kind: "status", status: 300, body: {} });
    expect(await failure(submitHsa2Code(ctx, "111111", { method: "device" }))).toMatchObject({
      message: "verify security code: unexpected answer HTTP 300",
    });
    fault({ endpoint: verify, kind: "status", status: 400, body: { securityCode: { securityCodeLocked: true } } });
    expect(await failure(submitHsa2Code(ctx, "111111", { method: "device" }))).toMatchObject({
      code: "RATE_LIMITED",
      info: { reason: "security-code-locked" },
    });
    // Never sent twice: Apple counts every attempt.
    const before = served(verify);
    fault({ endpoint: verify, kind: "reset" });
    expect(await failure(submitHsa2Code(ctx, "111111", { method: "device" }))).toMatchObject({ code: "NETWORK" });
    expect(served(verify)).toBe(before + 1);
    fault({ endpoint: "idmsa.phone.verify", kind: "reset" });
    expect(await failure(submitHsa2Code(ctx, "111111", { method: "sms", phoneId: 3 }))).toMatchObject({
      code: "NETWORK",
    });
    // 412 after a right code: the account needs a repair, which is done at once.
    const repairs = agent.to("/repair/complete").length;
    fault({ endpoint: verify, kind: "status", status: 412, body: {} });
    fault({ endpoint: "idmsa.repair.complete", kind: "status", status: 204 });
    expect(await submitHsa2Code(ctx, "111111", { method: "device" })).toBe(true);
    expect(agent.to("/repair/complete").length).toBe(repairs + 1);
    fault({ endpoint: verify, kind: "status", status: 299, body: {} });
    expect(await submitHsa2Code(ctx, "111111", { method: "device" })).toBe(true);
    expect(await triggerDeviceCode(ctx)).toBe(true);
    expect(await submitHsa2Code(ctx, "123456", { method: "device" })).toBe(true);
  });

  it("asks to be trusted; a refusal is only a warning", async () => {
    const { ctx, agent, lines } = await awaitingCode();
    expect(await triggerDeviceCode(ctx)).toBe(true);
    expect(await submitHsa2Code(ctx, "123456", { method: "device" })).toBe(true);
    lines.length = 0;
    await fetchTrust(ctx);
    expect(agent.to("/2sv/trust").at(-1)?.method).toBe("GET");
    expect(ctx.data.trust_token).toEqual(expect.any(String));
    for (const status of [200, 299]) {
      fault({ endpoint: "idmsa.trust", kind: "status", status, body: {} });
      await fetchTrust(ctx);
    }
    expect(lines).toEqual([]);
    for (const status of [300, 401]) {
      fault({ endpoint: "idmsa.trust", kind: "status", status, body: {} });
      await fetchTrust(ctx);
    }
    expect(lines).toEqual([
      ["warn", "2sv/trust refused; this browser will not be remembered", { username: HSA, status: 300 }],
      ["warn", "2sv/trust refused; this browser will not be remembered", { username: HSA, status: 401 }],
    ]);
  });

  it("a server error from 2sv/trust (500 and up) is thrown, so the step is resumed; 499 is a refusal", async () => {
    const { ctx, lines } = await awaitingCode();
    expect(await triggerDeviceCode(ctx)).toBe(true);
    expect(await submitHsa2Code(ctx, "123456", { method: "device" })).toBe(true);
    lines.length = 0;
    for (const status of [500, 502]) {
      fault({ endpoint: "idmsa.trust", kind: "status", status, body: {} });
      expect(await failure(fetchTrust(ctx))).toMatchObject({ message: `2sv/trust: unexpected answer HTTP ${status}` });
    }
    expect(lines).toEqual([]);
    fault({ endpoint: "idmsa.trust", kind: "status", status: 499, body: {} });
    await fetchTrust(ctx);
    expect(lines).toEqual([
      ["warn", "2sv/trust refused; this browser will not be remembered", { username: HSA, status: 499 }],
    ]);
  });
});

/** accountLogin answers the simulator would not give, for the branches of handleLogin. */
const LOGIN = {
  dsInfo: { dsid: 42, hsaVersion: 2, isWebAccessAllowed: true },
  webservices: { findme: { url: "https://p1-fmipweb.icloud.com:443", status: "active" } },
  hsaChallengeRequired: false,
  hsaTrustedBrowser: true,
};

describe("accountLogin and validate", () => {
  async function signedIn() {
    const c = context(PLAIN);
    expect(await srpSignIn(c.ctx, PASSWORD)).toBe("signed-in");
    return c;
  }

  it("needs a session token / a web session cookie, else asks nothing", async () => {
    const { ctx, agent } = context(PLAIN);
    expect(await accountLogin(ctx)).toBeUndefined();
    expect(await validateSession(ctx)).toBeUndefined();
    expect(agent.requests).toEqual([]);
  });

  it("logs in with the session and trust tokens, then validates with the cookies", async () => {
    const { ctx, agent } = await signedIn();
    expect(await accountLogin(ctx)).toBe("ok");
    const login = agent.to("/accountLogin").at(-1);
    expect(login?.method).toBe("POST");
    expect(login?.body).toEqual({
      accountCountryCode: ctx.data.account_country ?? "",
      dsWebAuthToken: ctx.data.session_token,
      extended_login: true,
      trustToken: "",
    });
    expect(ctx.data.dsid).toEqual(expect.stringMatching(/^\d+$/));
    expect(Object.keys(ctx.data.webservices ?? {})).toContain("findme");
    expect(await validateSession(ctx)).toBe("ok");
    expect(agent.to("/validate").at(-1)?.method).toBe("POST");

    ctx.data.account_country = undefined;
    await accountLogin(ctx);
    expect(agent.to("/accountLogin").at(-1)?.body).toMatchObject({ accountCountryCode: "" });
    ctx.data.account_country = "FRA";
    ctx.data.trust_token = "trust-me";
    await accountLogin(ctx);
    expect(agent.to("/accountLogin").at(-1)?.body).toMatchObject({ accountCountryCode: "FRA", trustToken: "trust-me" });
  });

  it("a refused session (400, 401, 403, 421, 450) is no session; other statuses are errors", async () => {
    const { ctx, lines } = await signedIn();
    lines.length = 0;
    for (const status of [400, 401, 403, 421, 450]) {
      fault({ endpoint: "setup.accountLogin", kind: "status", status, body: {} });
      expect(await accountLogin(ctx), String(status)).toBeUndefined();
    }
    expect(await accountLogin(ctx)).toBe("ok");
    fault({ endpoint: "setup.validate", kind: "status", status: 421, body: {} });
    expect(await validateSession(ctx)).toBeUndefined();
    expect(lines).toEqual([
      ...[400, 401, 403, 421, 450].map(
        (status): Line => ["info", "accountLogin refused the stored session", { username: PLAIN, status }],
      ),
      ["info", "validate refused the stored session", { username: PLAIN, status: 421 }],
    ]);
    fault({ endpoint: "setup.validate", kind: "status", status: 500, body: {} });
    expect(await failure(validateSession(ctx))).toMatchObject({ message: "validate: unexpected answer HTTP 500" });
    fault({ endpoint: "setup.accountLogin", kind: "status", status: 201, body: LOGIN });
    expect(await failure(accountLogin(ctx))).toMatchObject({ message: "accountLogin: unexpected answer HTTP 201" });
  });

  it("reads the account: region, web access, and which second factor is due", async () => {
    const { ctx } = await signedIn();
    const answer = async (body: unknown) => {
      fault({ endpoint: "setup.accountLogin", kind: "status", status: 200, body });
      return accountLogin(ctx);
    };
    expect(await answer(LOGIN)).toBe("ok");
    expect(ctx.data).toMatchObject({ dsid: "42", hsa_version: 2, webservices: LOGIN.webservices });
    expect(await answer({ ...LOGIN, hsaChallengeRequired: true })).toBe("hsa2");
    expect(await answer({ ...LOGIN, hsaTrustedBrowser: false })).toBe("hsa2");
    expect(await answer({ ...LOGIN, hsaTrustedBrowser: undefined })).toBe("hsa2");
    const twoSv = { ...LOGIN, dsInfo: { ...LOGIN.dsInfo, hsaVersion: 1 } };
    expect(await answer({ ...twoSv, hsaChallengeRequired: true })).toBe("2sv");
    expect(await answer(twoSv)).toBe("ok");
    expect(await answer({ ...LOGIN, dsInfo: { dsid: 42 }, hsaTrustedBrowser: false })).toBe("ok");

    const region = await failure(answer({ domainToUse: "iCloud.com.cn" }));
    expect(isEngineError(region, "WRONG_REGION")).toBe(true);
    expect(region).toMatchObject({
      message: "This account must sign in at iCloud.com.cn (check the china option)",
      info: { domain_to_use: "iCloud.com.cn" },
    });
    expect(await answer({ success: false, error: 1 })).toBeUndefined();
    for (const body of [{ success: true }, { dsInfo: {} }, [1]]) {
      expect(await failure(answer(body))).toMatchObject({
        code: "UNEXPECTED_RESPONSE",
        message: "accountLogin: answer did not have the expected shape",
        info: { status: 200 },
      });
    }
    const noWeb = await failure(answer({ ...LOGIN, dsInfo: { ...LOGIN.dsInfo, isWebAccessAllowed: false } }));
    expect(isEngineError(noWeb, "WEB_ACCESS_DISABLED")).toBe(true);
    expect(noWeb).toMatchObject({
      message: 'Turn on "Access iCloud Data on the Web" in the iCloud settings of a trusted device',
    });
  });
});

describe("legacy two-step verification", () => {
  async function twoSv() {
    const c = context(TWOSV);
    expect(await srpSignIn(c.ctx, PASSWORD)).toBe("signed-in");
    expect(await accountLogin(c.ctx)).toBe("2sv");
    return c;
  }

  it("lists the devices, sends a code once, validates it", async () => {
    const { ctx, agent } = await twoSv();
    const devices = await listTwoSvDevices(ctx);
    expect(devices).toEqual([expect.objectContaining({ deviceId: "1", deviceType: "SMS" })]);
    expect(agent.to("/listDevices").at(-1)?.method).toBe("GET");
    const [device] = devices;
    if (!device) throw new Error("no device");
    await sendTwoSvCode(ctx, device);
    expect(agent.to("/sendVerificationCode").at(-1)).toMatchObject({ method: "POST", body: device });
    expect(await validateTwoSvCode(ctx, device, "000000")).toBe(false);
    const code = sim.deviceCode(TWOSV)?.code ?? "";
    expect(await validateTwoSvCode(ctx, device, code)).toBe(true);
    expect(agent.to("/validateVerificationCode").at(-1)).toMatchObject({
      method: "POST",
      body: { ...device, verificationCode: code, trustBrowser: true },
    });
  });

  it("refuses unexpected answers, and never sends a code or a validation twice", async () => {
    const { ctx } = await twoSv();
    fault({ endpoint: "setup.listDevices", kind: "status", status: 500, body: {} });
    expect(await failure(listTwoSvDevices(ctx))).toMatchObject({ message: "listDevices: unexpected answer HTTP 500" });
    fault({ endpoint: "setup.listDevices", kind: "status", status: 200, body: { devices: [{ deviceType: "SMS" }] } });
    expect(await failure(listTwoSvDevices(ctx))).toMatchObject({
      message: "listDevices: answer did not have the expected shape",
    });
    const device = { deviceId: "1", deviceType: "SMS" };
    const send = "setup.sendVerificationCode";
    for (const [status, body] of [
      [500, { success: true }],
      [200, { success: false }],
      [200, [1]],
    ] as const) {
      fault({ endpoint: send, kind: "status", status, body });
      expect(await failure(sendTwoSvCode(ctx, device))).toMatchObject({
        message: `sendVerificationCode: unexpected answer HTTP ${status}`,
      });
    }
    fault({ endpoint: send, kind: "status", status: 200, body: {} });
    await sendTwoSvCode(ctx, device);
    const sent = served(send);
    fault({ endpoint: send, kind: "reset" });
    expect(await failure(sendTwoSvCode(ctx, device))).toMatchObject({ code: "NETWORK" });
    expect(served(send)).toBe(sent + 1);

    const validate = "setup.validateVerificationCode";
    fault({ endpoint: validate, kind: "status", status: 200, body: {} });
    expect(await validateTwoSvCode(ctx, device, "1")).toBe(true);
    fault({ endpoint: validate, kind: "status", status: 200, body: { success: false, errorCode: -21669 } });
    expect(await validateTwoSvCode(ctx, device, "1")).toBe(false);
    fault({ endpoint: validate, kind: "status", status: 400, body: { serviceErrors: [{ code: "-21669" }] } });
    expect(await validateTwoSvCode(ctx, device, "1")).toBe(false);
    for (const [status, body] of [
      [200, { success: false, errorCode: -20000 }],
      [201, { success: true }],
      [200, [1]],
      [400, {}],
    ] as const) {
      fault({ endpoint: validate, kind: "status", status, body });
      expect(await failure(validateTwoSvCode(ctx, device, "1"))).toMatchObject({
        message: `validateVerificationCode: unexpected answer HTTP ${status}`,
      });
    }
    const validated = served(validate);
    fault({ endpoint: validate, kind: "reset" });
    expect(await failure(validateTwoSvCode(ctx, device, "1"))).toMatchObject({ code: "NETWORK" });
    expect(served(validate)).toBe(validated + 1);
  });
});

describe("codeLimitError", () => {
  const res = (status: number, json: unknown): HttpResponse => ({ status, headers: {}, setCookie: [], text: "", json });

  it("reads the limit flags at the top level or under phoneNumberVerification", () => {
    for (const flag of ["securityCodeLocked", "tooManyCodesValidated"]) {
      for (const json of [
        { securityCode: { [flag]: true } },
        { phoneNumberVerification: { securityCode: { [flag]: true } } },
      ]) {
        expect(codeLimitError(res(400, json))).toMatchObject({
          code: "RATE_LIMITED",
          retryable: false,
          message:
            "Too many incorrect verification codes: Apple has locked code entry for this sign-in. Wait before signing in and entering a code again",
          info: { status: 400, reason: "security-code-locked" },
        });
      }
    }
    for (const json of [
      { securityCode: { tooManyCodesSent: true } },
      { phoneNumberVerification: { securityCode: { tooManyCodesSent: true } } },
    ]) {
      expect(codeLimitError(res(423, json))).toMatchObject({
        code: "RATE_LIMITED",
        retryable: false,
        message:
          "Apple has sent too many verification codes for this sign-in. Enter a code you already received, or wait before requesting a new one",
        info: { status: 423, reason: "too-many-codes-sent" },
      });
    }
  });

  it("keeps Apple's error codes, and says nothing without a raised flag or on success", () => {
    const locked = codeLimitError(
      res(400, { securityCode: { securityCodeLocked: true }, serviceErrors: [{ code: "-21669" }] }),
    );
    expect(locked?.info).toEqual({ status: 400, apple_codes: ["-21669"], reason: "security-code-locked" });
    expect(codeLimitError(res(400, { securityCode: { securityCodeLocked: true } }))?.info).toEqual({
      status: 400,
      reason: "security-code-locked",
    });
    for (const json of [
      undefined,
      "text",
      {},
      { securityCode: { tooManyCodesSent: false, tooManyCodesValidated: false, securityCodeLocked: false } },
      { securityCode: { securityCodeLocked: "yes" } },
      { securityCode: "locked" },
    ]) {
      expect(codeLimitError(res(400, json)), JSON.stringify(json)).toBeUndefined();
    }
    for (const status of [200, 204, 299]) {
      expect(codeLimitError(res(status, { securityCode: { securityCodeLocked: true } }))).toBeUndefined();
    }
    expect(codeLimitError(res(300, { securityCode: { tooManyCodesSent: true } }))).toBeDefined();
    expect(codeLimitError(res(199, { securityCode: { tooManyCodesSent: true } }))).toBeDefined();
  });
});
