/**
 * Third-party conformance: the request sequences of public clients that work against Apple today,
 * replayed over real HTTP against the simulator (see each replay's header for its sources). If one
 * of these fails, the simulator is stricter than Apple (or answers differently) — not the client.
 */
import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { parseScenario, type ScenarioInput } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";
import { SIMULATOR_SERVICES } from "../../src/simulator/service-modules.ts";
import { IcloudPhotosSync } from "./icloud-photos-sync.ts";
import { IcloudWeb } from "./icloud-web.ts";
import { Icloudpd } from "./icloudpd.ts";
import { PyiCloud } from "./pyicloud.ts";
import { dig, SERVICE_ORIGIN, Wire } from "./wire.ts";

const PW = "correct horse battery staple";
const PHONES = [
  { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" as const },
  { id: 2, number: "+33 •• •• •• •• 58", push_mode: "voice" as const },
];
type Account = ScenarioInput["accounts"][number];
const hsa2 = (appleId: string, extra: Partial<Account> = {}): Account => ({
  apple_id: appleId,
  password: PW,
  srp: { protocol: "s2k", iterations: 1000 },
  mfa: { kind: "hsa2", trusted_devices: [{ name: "iPhone", model: "iPhone" }], trusted_phone_numbers: PHONES },
  ...extra,
});

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(
  accounts: Account[],
  extra: Omit<ScenarioInput, "accounts"> = {},
): Promise<{ sim: SimulatorHandle; wire: Wire }> {
  sim = await startSimulator({
    scenario: parseScenario({ accounts, ...extra }),
    publicOrigin: SERVICE_ORIGIN,
    services: [...SIMULATOR_SERVICES],
  });
  return { sim, wire: new Wire(sim.address) };
}

const shown = (handle: SimulatorHandle, appleId: string): string => {
  const code = handle.deviceCode(appleId)?.code;
  if (!code) throw new Error("no code shown");
  return code;
};

async function expire(handle: SimulatorHandle, wire: Wire, appleId: string, what: string): Promise<void> {
  const res = await wire.send({
    method: "POST",
    url: `${handle.address}/__sim/accounts/${encodeURIComponent(appleId)}/expire`,
    headers: [["Content-Type", "application/json"]],
    body: JSON.stringify({ what }),
  });
  expect(res.status).toBe(204);
}

describe("timlaing/pyicloud", () => {
  it("signs in (s2k) with signin/complete carrying init's headers, 2FA by device code, trust, Find My", async () => {
    const { sim, wire } = await start([hsa2("py@example.com")]);
    const py = new PyiCloud(wire, "py@example.com", PW);
    await py.authenticate();
    expect(py.requires2fa).toBe(true);
    expect(wire.steps()).toEqual([
      "POST /appleauth/auth/signin/init",
      "POST /appleauth/auth/signin/complete",
      "GET /appleauth/auth",
      "GET /appleauth/auth/verify/trusteddevice",
      "POST /setup/ws/1/accountLogin",
    ]);
    const complete = wire.log[1];
    expect(complete?.status).toBe(409);
    expect(complete?.headers["scnt"]).toBeUndefined();
    expect(complete?.headers["x-apple-id-session-id"]).toBeUndefined();
    expect(complete?.headers["cookie"]).toMatch(/^aasp=/);
    expect(complete?.query).toBe("?isRememberMeEnabled=true");
    expect(py.trustedPhones.map((p) => p.id)).toEqual([1, 2]);

    expect(await py.validate2faCode(shown(sim, "py@example.com"))).toBe(true);
    expect(py.trusted).toBe(true);
    expect(wire.steps().slice(5)).toEqual([
      "POST /appleauth/auth/verify/trusteddevice/securitycode",
      "GET /appleauth/auth/2sv/trust",
      "POST /setup/ws/1/accountLogin",
    ]);
    const first = await py.findMy();
    expect((first["content"] as unknown[]).length).toBeGreaterThan(0);
    const second = await py.findMy(false);
    expect(second["statusCode"]).toBe("200");
    expect(wire.log.slice(-2).map((e) => `${e.path}${e.query.includes("dsid=") ? " +dsid" : ""} ${e.status}`)).toEqual([
      "/fmipservice/client/web/initClient +dsid 200",
      "/fmipservice/client/web/refreshClient +dsid 200",
    ]);
  });

  it("SMS to a number from the 2026 boot_args, a second start without a code, validate → 421 → trust-token sign-in", async () => {
    const { sim, wire } = await start([hsa2("py26@example.com", { phone_list_layout: "bridge2026" })]);
    const py = new PyiCloud(wire, "py26@example.com", PW);
    await py.authenticate();
    expect(py.trustedPhones.map((p) => p.id)).toEqual([1, 2]);
    await py.requestSmsCode(py.trustedPhones[1]!);
    expect(sim.deviceCode("py26@example.com")?.channel).toBe("sms");
    expect(await py.validateSmsCode(py.trustedPhones[1]!, shown(sim, "py26@example.com"))).toBe(true);
    const codes = structuredClone(sim.stats("py26@example.com").codes_sent);

    // Next start: the Python jar never kept the 1970-expired HSA-LOGIN cookie; validate still works.
    const again = new PyiCloud(wire, "py26@example.com", PW, py.state());
    expect(again.session.jar.get("X-APPLE-WEBAUTH-HSA-LOGIN")).toBeUndefined();
    const mark = wire.log.length;
    await again.authenticate();
    expect(wire.steps().slice(mark)).toEqual(["POST /setup/ws/1/validate"]);
    expect(wire.log[mark]?.status).toBe(200);
    expect(again.trusted).toBe(true);

    // Once the web session token expired: 421, then accountLogin with the stored session token.
    await expire(sim, wire, "py26@example.com", "validate_token");
    const third = new PyiCloud(wire, "py26@example.com", PW, again.state());
    let before = wire.log.length;
    await third.authenticate();
    expect(wire.log.slice(before).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "POST /setup/ws/1/validate 421",
      "POST /setup/ws/1/accountLogin 200",
    ]);
    // With the session token gone too: SRP with the trust token (200, no code), then accountLogin.
    await expire(sim, wire, "py26@example.com", "validate_token");
    await expire(sim, wire, "py26@example.com", "session_token");
    const fourth = new PyiCloud(wire, "py26@example.com", PW, third.state());
    before = wire.log.length;
    await fourth.authenticate();
    expect(wire.log.slice(before).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "POST /setup/ws/1/validate 421",
      "POST /setup/ws/1/accountLogin 421",
      "POST /appleauth/auth/signin/init 200",
      "POST /appleauth/auth/signin/complete 200",
      "POST /setup/ws/1/accountLogin 200",
    ]);
    expect(fourth.trusted).toBe(true);
    expect(wire.log.at(-2)?.body).toContain(`"trustTokens": ["${fourth.data["trust_token"]}"]`);
    expect(sim.stats("py26@example.com").codes_sent).toEqual(codes);
  });

  it("re-authenticates when the Find My session expires (450) and retries", async () => {
    const { sim, wire } = await start([hsa2("fmy@example.com")]);
    const py = new PyiCloud(wire, "fmy@example.com", PW);
    await py.authenticate();
    expect(await py.validate2faCode(shown(sim, "fmy@example.com"))).toBe(true);
    await py.findMy();
    sim.clock.advance(16 * 60_000);
    const mark = wire.log.length;
    const answer = await py.findMy();
    expect(answer["statusCode"]).toBe("200");
    // authenticate(force_refresh=True): accountLogin with the stored session token, fresh cookies.
    expect(wire.log.slice(mark).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "POST /fmipservice/client/web/refreshClient 450",
      "POST /setup/ws/1/accountLogin 200",
      "POST /fmipservice/client/web/initClient 200",
    ]);
  });

  it("fails against the opt-in strict variant exactly where the issue says (signin/complete, 401 -20000)", async () => {
    const { wire } = await start([hsa2("strictpy@example.com")], { strict: true });
    const py = new PyiCloud(wire, "strictpy@example.com", PW);
    await expect(py.authenticate()).rejects.toThrow(/401 from \/appleauth\/auth\/signin\/complete/);
  });
});

describe("icloud-photos-downloader (icloudpd)", () => {
  it("s2k_fo sign-in; SMS through hand-built requests (no cookies, an older scnt); trust", async () => {
    const { sim, wire } = await start([hsa2("fo@example.com", { srp: { protocol: "s2k_fo", iterations: 1000 } })]);
    const pd = new Icloudpd(wire, "fo@example.com", PW);
    await pd.authenticate();
    expect(pd.requires2fa).toBe(true);
    await pd.triggerPushNotification();
    const phones = await pd.trustedPhoneNumbers();
    expect(phones.map((p) => p.id)).toEqual([1, 2]);
    expect(await pd.send2faCodeSms(1)).toBe(true);
    expect(await pd.validate2faCodeSms(1, shown(sim, "fo@example.com"))).toBe(true);
    expect(pd.requires2fa).toBe(false);

    const at = (path: string, method: string) => wire.log.find((e) => e.path === path && e.method === method);
    const page = at("/appleauth/auth", "GET");
    const sms = at("/appleauth/auth/verify/phone", "PUT");
    const verify = at("/appleauth/auth/verify/phone/securitycode", "POST");
    const trust = at("/appleauth/auth/2sv/trust", "GET");
    for (const entry of [page, sms, verify]) {
      expect(entry?.headers["cookie"]).toBeUndefined();
      expect(entry?.headers["accept"] === undefined || entry?.headers["accept"]?.startsWith("application/json")).toBe(
        true,
      );
    }
    // All three carry the scnt stored before them; so does 2sv/trust afterwards (not the newest).
    expect(sms?.headers["scnt"]).toBe(page?.headers["scnt"]);
    expect(verify?.headers["scnt"]).toBe(page?.headers["scnt"]);
    expect(trust?.headers["scnt"]).toBe(page?.headers["scnt"]);
    expect([page?.status, sms?.status, verify?.status, trust?.status]).toEqual([200, 200, 200, 204]);
  });

  it("device code, then Photos: zones/list with no query string, startRank paging, downloads", async () => {
    const { sim, wire } = await start([hsa2("pd@example.com", { photos: { count: 230, seed: 3 } })]);
    const pd = new Icloudpd(wire, "pd@example.com", PW);
    await pd.authenticate();
    await pd.triggerPushNotification();
    expect(await pd.validate2faCode(shown(sim, "pd@example.com"))).toBe(true);
    await pd.authenticate();
    const libraries = await pd.libraries();
    const zonesList = wire.log.find((e) => e.path.endsWith("/zones/list"));
    expect(zonesList).toMatchObject({ query: "", status: 200, headers: { "content-type": "text/plain" }, body: "{}" });
    const primary = libraries.find((z) => z["zoneName"] === "PrimarySync");
    expect(primary).toBeDefined();
    const { count, photos } = await pd.allPhotos(primary!);
    expect(count).toBe(230);
    expect(photos).toHaveLength(230);
    expect(new Set(photos.map((p) => p.id)).size).toBe(230);
    for (const photo of photos.slice(0, 3)) {
      const res = await pd.download(photo.url);
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(photo.size);
      expect(wire.log.at(-1)?.path).toMatch(/\/\$%7Bf%7D$/);
    }
  });

  it("repairs a 412 account with POST /repair/complete and continues", async () => {
    const { wire } = await start([
      { apple_id: "fix@example.com", password: PW, mfa: { kind: "none" }, repair_needed: true },
    ]);
    const pd = new Icloudpd(wire, "fix@example.com", PW);
    await pd.authenticate();
    expect(wire.log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "POST /appleauth/auth/signin/init 200",
      "POST /appleauth/auth/signin/complete 412",
      "POST /appleauth/auth/repair/complete 204",
      "POST /setup/ws/1/accountLogin 200",
    ]);
    expect(dig(pd.account, "dsInfo.dsid")).toBeTruthy();
  });

  it("an expired web session: validate 421 (retried once), then SRP with the trust token and no code", async () => {
    const { sim, wire } = await start([hsa2("again@example.com")]);
    const pd = new Icloudpd(wire, "again@example.com", PW);
    await pd.authenticate();
    await pd.triggerPushNotification();
    expect(await pd.validate2faCode(shown(sim, "again@example.com"))).toBe(true);
    await expire(sim, wire, "again@example.com", "validate_token");
    const next = new Icloudpd(wire, "again@example.com", PW, pd);
    const mark = wire.log.length;
    await next.authenticate();
    expect(wire.log.slice(mark).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "POST /setup/ws/1/validate 421",
      "POST /setup/ws/1/validate 421",
      "POST /appleauth/auth/signin/init 200",
      "POST /appleauth/auth/signin/complete 200",
      "POST /setup/ws/1/accountLogin 200",
    ]);
    expect(next.requires2fa).toBe(false);
  });
});

describe("steilerDev/icloud-photos-sync", () => {
  it("device code, trust, accountLogin, Photos (counts by records/query, ranges), downloads without cookies", async () => {
    const { sim, wire } = await start([hsa2("ips@example.com", { photos: { count: 230, seed: 5 } })]);
    const ips = new IcloudPhotosSync(wire, "ips@example.com", PW);
    expect(await ips.authenticate()).toBe("mfa");
    expect(ips.trustedPhoneNumbers.map((p) => p.id)).toEqual([1, 2]);
    expect(wire.steps()).toEqual([
      "POST /appleauth/auth/signin/init",
      "POST /appleauth/auth/signin/complete",
      "GET /appleauth/auth",
      "PUT /appleauth/auth/verify/trusteddevice/securitycode",
    ]);
    expect(wire.log[1]?.body).toContain('"trustTokens":[null]');
    await ips.submitMFA({ kind: "device" }, shown(sim, "ips@example.com"));
    expect(await ips.setupAccount()).toBe("ready");
    const zoneID = await ips.setupPhotos();
    const changes = wire.log.filter((e) => e.path.endsWith("/changes/database"));
    expect(changes.map((e) => `${e.query}|${e.status}`)).toEqual(["|200", "|200"]);
    const { expected, records } = await ips.allPictureRecords(zoneID);
    expect(expected).toBe(230);
    expect(records.filter((r) => r["recordType"] === "CPLAsset")).toHaveLength(230);
    const queries = wire.log.filter((e) => e.path.endsWith("/records/query"));
    expect(queries.every((e) => e.query === "?remapEnums=True" && e.status === 200)).toBe(true);
    const master = records.find((r) => r["recordType"] === "CPLMaster");
    const res = await ips.download(String(dig(master, "fields.resOriginalRes.value.downloadURL")));
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(Number(dig(master, "fields.resOriginalRes.value.size")));
    expect(wire.log.at(-1)?.headers["cookie"]).toBeUndefined();
  });

  it("s2k_fo, SMS to a chosen number from the JSON auth options, then a second start with the trust token", async () => {
    const { sim, wire } = await start([hsa2("ipsfo@example.com", { srp: { protocol: "s2k_fo", iterations: 1000 } })]);
    const ips = new IcloudPhotosSync(wire, "ipsfo@example.com", PW);
    expect(await ips.authenticate()).toBe("mfa");
    await ips.resendMFA({ kind: "sms", id: 2 });
    expect(sim.deviceCode("ipsfo@example.com")?.channel).toBe("sms");
    await ips.submitMFA({ kind: "sms", id: 2 }, shown(sim, "ipsfo@example.com"));
    expect(await ips.setupAccount()).toBe("ready");
    const next = new IcloudPhotosSync(wire, "ipsfo@example.com", PW, ips.trustToken);
    expect(await next.authenticate()).toBe("trusted");
    expect(await next.setupAccount()).toBe("ready");
  });
});

describe("iCloud.com web app (protocol reference)", () => {
  it("authorize page, SRP with the latest scnt, device code, trust, validate, Find My, zones/list", async () => {
    const { sim, wire } = await start([hsa2("web@example.com", { photos: { count: 5 } })]);
    const web = new IcloudWeb(wire, "web@example.com", PW);
    expect(await web.signIn()).toBe(409);
    await web.startTwoFactor();
    await web.enterDeviceCode(shown(sim, "web@example.com"));
    expect((await web.accountLogin()).status).toBe(200);
    expect(web.account["hsaTrustedBrowser"]).toBe(true);
    const validate = await web.validate();
    expect(validate.status).toBe(200);
    expect(wire.log.at(-1)?.headers["cookie"]).not.toContain("X-APPLE-WEBAUTH-HSA-LOGIN");
    expect((await web.findMy()).status).toBe(200);
    expect((await web.findMy()).status).toBe(200);
    const zones = await web.service(
      "ckdatabasews",
      "/database/1/com.apple.photos.cloud/production/private/zones/list",
      {},
    );
    expect(zones.status).toBe(200);
    expect(dig(zones.json, "zones.0.zoneID.zoneName")).toBe("PrimarySync");
    expect(
      wire.log.filter((e) => e.host === "idmsa.apple.com").map((e) => `${e.method} ${e.path} ${e.status}`),
    ).toEqual([
      "GET /appleauth/auth/authorize/signin 200",
      "POST /appleauth/auth/signin/init 200",
      "POST /appleauth/auth/signin/complete 409",
      "GET /appleauth/auth 200",
      "PUT /appleauth/auth/verify/trusteddevice/securitycode 202",
      "POST /appleauth/auth/verify/trusteddevice/securitycode 204",
      "GET /appleauth/auth/2sv/trust 204",
    ]);
  });

  it("answers an expired web session as the clients expect: validate 421, CloudKit 401, Find My 450", async () => {
    const { sim, wire } = await start([hsa2("late@example.com", { photos: { count: 2 } })]);
    const web = new IcloudWeb(wire, "late@example.com", PW);
    await web.signIn();
    await web.startTwoFactor();
    await web.enterDeviceCode(shown(sim, "late@example.com"));
    await web.accountLogin();
    await expire(sim, wire, "late@example.com", "validate_token");
    expect((await web.validate()).status).toBe(421);
    const zones = await web.service(
      "ckdatabasews",
      "/database/1/com.apple.photos.cloud/production/private/zones/list",
      {},
    );
    expect(zones.status).toBe(401);
    expect(zones.json).toEqual({ reason: "Invalid global session", error: 2 });
    expect((await web.findMy()).status).toBe(450);
  });
});

const hasPythonRequests = spawnSync("python3", ["-c", "import requests"]).status === 0;

describe.skipIf(!hasPythonRequests)("Python requests + http.cookiejar (real library)", () => {
  it("signs in with init's headers on signin/complete, validates without HSA-LOGIN, lists zones without a query", async () => {
    // Real name resolution here: the webservices point at the simulator's own address.
    sim = await startSimulator({
      scenario: parseScenario({ accounts: [hsa2("python@example.com", { photos: { count: 3 } })] }),
      services: [...SIMULATOR_SERVICES],
    });
    const script = fileURLToPath(new URL("./python_requests_flow.py", import.meta.url));
    // Asynchronous: the simulator answers from this very process.
    const run = await promisify(execFile)("python3", [script, sim.url, "python@example.com", PW], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    const outcome = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(outcome).toMatchObject({
      complete: 409,
      verify: 204,
      trust: 204,
      accountLogin: 200,
      trusted: true,
      validate: 200,
      zones: 200,
      zoneNames: ["PrimarySync"],
    });
    expect(outcome["cookies"]).not.toContain("X-APPLE-WEBAUTH-HSA-LOGIN");
    expect(outcome["cookies"]).toContain("X-APPLE-WEBAUTH-TOKEN");
  });
});
