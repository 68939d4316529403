/**
 * Replay of timlaing/pyicloud, the maintained fork Home Assistant's iCloud integration uses:
 * `pyicloud/base.py` (`authenticate`, `_srp_authentication`, `_authenticate_with_token`,
 * `_get_auth_headers`, `validate_2fa_code`, `trust_session`, `_validate_token`), `pyicloud/session.py`
 * (`_update_session_data` files HEADER_DATA from *every* answer its session receives),
 * `pyicloud/cookie_jar.py` (an `http.cookiejar` LWP jar), PR #260 (2026-05: after the 409 it reads
 * the auth options and triggers the device code with `GET /verify/trusteddevice`) and the Find My
 * calls of reference 2.1 (`initClient`, then `refreshClient` echoing `serverContext`).
 *
 * What matters on the wire: `signin/complete` goes out with the *same headers dict* as
 * `signin/init`, built before init (no scnt and no X-Apple-ID-Session-Id on a first sign-in, only
 * the `aasp` cookie); MFA calls rebuild the headers from the stored scnt/session id; the expired
 * HSA-LOGIN cookie never reaches the jar; service calls carry `dsid` and `clientId` params.
 */
import { PyCookieJar, type PyParams, RequestsSession } from "./python-requests.ts";
import { SrpUser } from "./srp-user.ts";
import { bootArgs, dig, type Wire, type WireResponse } from "./wire.ts";

const AUTH = "https://idmsa.apple.com/appleauth/auth";
const HOME = "https://www.icloud.com";
const SETUP = "https://setup.icloud.com/setup/ws/1";
const WIDGET = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";

const HEADER_DATA: Record<string, string> = {
  "x-apple-id-account-country": "account_country",
  "x-apple-id-session-id": "session_id",
  "x-apple-session-token": "session_token",
  "x-apple-twosv-trust-token": "trust_token",
  "x-apple-twosv-trust-eligible": "trust_eligible",
  "x-apple-i-rscd": "apple_rscd",
  "x-apple-i-ercd": "apple_ercd",
  scnt: "scnt",
};

export interface PyiCloudState {
  data: Record<string, string>;
  jar: PyCookieJar;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(res: WireResponse) {
    super(`${res.status} from ${new URL(res.url).pathname}: ${res.text.slice(0, 200)}`);
    this.status = res.status;
  }
}

export class PyiCloud {
  readonly session: RequestsSession;
  readonly data: Record<string, string>;
  readonly params: PyParams;
  readonly appleId: string;
  readonly #password: string;
  account: Record<string, unknown> = {};
  #serverContext: unknown;

  constructor(wire: Wire, appleId: string, password: string, stored?: PyiCloudState) {
    this.appleId = appleId;
    this.#password = password;
    this.session = new RequestsSession(wire);
    if (stored) this.session.jar.cookies = [...stored.jar.cookies];
    this.data = { client_id: "auth-6e1d2f3c-0d9a-11f1-8000-0242ac120002", ...(stored?.data ?? {}) };
    Object.assign(this.session.headers, {
      Origin: HOME,
      Referer: `${HOME}/`,
      "User-Agent":
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3.1 Safari/605.1.15",
    });
    this.params = {
      clientBuildNumber: "2512Hotfix21",
      clientMasteringNumber: "2512Hotfix21",
      ckjsBuildVersion: "2310ProjectDev27",
      ckjsVersion: "2.6.4",
      clientId: this.data["client_id"] ?? "",
    };
  }

  /** What pyicloud persists between runs: the session file and the (saved) cookie jar. */
  state(): PyiCloudState {
    const jar = new PyCookieJar();
    jar.cookies = [...this.session.jar.cookies];
    return { data: { ...this.data }, jar };
  }

  /** PyiCloudSession._request: stores HEADER_DATA, raises on errors (409 hsa2 → 2FA exception). */
  async request(method: string, url: string, options: Parameters<RequestsSession["request"]>[2] = {}) {
    const res = await this.session.request(method, url, options);
    for (const [name, key] of Object.entries(HEADER_DATA)) {
      const value = res.headers[name];
      if (typeof value === "string" && value) this.data[key] = value;
    }
    if (res.status === 409 && dig(res.json, "authType") === "hsa2") return { res, twoFactor: true };
    if (res.status >= 400) throw new ApiError(res);
    return { res, twoFactor: false };
  }

  get requires2fa(): boolean {
    return (
      dig(this.account, "dsInfo.hsaVersion") === 2 && (this.account["hsaChallengeRequired"] === true || !this.trusted)
    );
  }

  get trusted(): boolean {
    return this.account["hsaTrustedBrowser"] === true;
  }

  authHeaders(overrides: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: "application/json, text/javascript",
      "Content-Type": "application/json",
      "X-Apple-OAuth-Client-Id": WIDGET,
      "X-Apple-OAuth-Client-Type": "firstPartyAuth",
      "X-Apple-OAuth-Redirect-URI": "https://www.icloud.com",
      "X-Apple-OAuth-Require-Grant-Code": "true",
      "X-Apple-OAuth-Response-Mode": "web_message",
      "X-Apple-OAuth-Response-Type": "code",
      "X-Apple-OAuth-State": this.data["client_id"] ?? "",
      "X-Apple-Widget-Key": WIDGET,
    };
    if (this.data["scnt"]) headers["scnt"] = this.data["scnt"];
    if (this.data["session_id"]) headers["X-Apple-ID-Session-Id"] = this.data["session_id"];
    return { ...headers, ...overrides };
  }

  /** `authenticate()`: validate, else accountLogin with the stored token, else SRP then accountLogin. */
  async authenticate(forceRefresh = false): Promise<void> {
    if (this.data["session_token"] && !forceRefresh) {
      try {
        this.account = await this.validateToken();
        this.#updateState();
        return;
      } catch (error) {
        if (!(error instanceof ApiError) && !(error instanceof MissingToken)) throw error;
      }
    }
    try {
      try {
        await this.#authenticateWithToken();
      } catch (error) {
        if (!(error instanceof ApiError || error instanceof MissingToken || error instanceof TwoFactorRequired)) {
          throw error;
        }
        await this.#srp(this.authHeaders());
        await this.#authenticateWithToken();
      }
    } catch (error) {
      if (!(error instanceof TwoFactorRequired)) throw error;
    }
    this.#updateState();
  }

  #updateState(): void {
    const dsid = dig(this.account, "dsInfo.dsid");
    if (typeof dsid === "string") this.params["dsid"] = dsid;
  }

  async validateToken(): Promise<Record<string, unknown>> {
    if (!this.session.jar.get("X-APPLE-WEBAUTH-TOKEN")) throw new MissingToken();
    const { res } = await this.request("POST", `${SETUP}/validate`, { data: "null" });
    return res.json as Record<string, unknown>;
  }

  async #authenticateWithToken(): Promise<void> {
    if (!this.data["session_token"]) throw new MissingToken();
    const { res } = await this.request("POST", `${SETUP}/accountLogin`, {
      json: {
        accountCountryCode: this.data["account_country"] ?? null,
        dsWebAuthToken: this.data["session_token"],
        extended_login: true,
        trustToken: this.data["trust_token"] ?? "",
      },
    });
    this.account = res.json as Record<string, unknown>;
    if (!this.trusted) throw new TwoFactorRequired();
  }

  async #srp(headers: Record<string, string>): Promise<void> {
    const user = new SrpUser(this.appleId);
    const { res } = await this.request("POST", `${AUTH}/signin/init`, {
      json: { a: user.a, accountName: this.appleId, protocols: ["s2k", "s2k_fo"] },
      headers,
    });
    const challenge = res.json as { salt: string; b: string; c: string; iteration: number; protocol: string };
    // pyicloud's `SrpPassword.encode` derives the s2k way whatever `protocol` the server picked
    // (icloudpd and icloud-photos-sync honour s2k_fo).
    const proof = user.proof(this.#password, { ...challenge, protocol: "s2k" });
    const { twoFactor } = await this.request("POST", `${AUTH}/signin/complete`, {
      params: { isRememberMeEnabled: "true" },
      json: {
        accountName: this.appleId,
        c: challenge.c,
        m1: proof.m1,
        m2: proof.m2,
        rememberMe: true,
        trustTokens: this.data["trust_token"] ? [this.data["trust_token"]] : [],
      },
      headers,
    });
    if (twoFactor) await this.#afterTwoFactorRequired();
  }

  trustedPhones: { id: number; numberWithDialCode?: string; nonFTEU?: boolean }[] = [];

  /** PR #260: read the auth options (HTML boot_args), then trigger the device code. */
  async #afterTwoFactorRequired(): Promise<void> {
    const { res } = await this.request("GET", AUTH, { headers: this.authHeaders({ Accept: "text/html" }) });
    const args = bootArgs(res.text);
    const twoSV = dig(args, "direct.twoSV");
    const phones =
      (dig(twoSV, "phoneNumberVerification.trustedPhoneNumbers") as typeof this.trustedPhones | undefined) ??
      (dig(twoSV, "bridgeInitiateData.phoneNumberVerification.trustedPhoneNumbers") as
        | typeof this.trustedPhones
        | undefined) ??
      [];
    this.trustedPhones = phones;
    await this.request("GET", `${AUTH}/verify/trusteddevice`, { headers: this.authHeaders() });
  }

  async validate2faCode(code: string): Promise<boolean> {
    try {
      await this.request("POST", `${AUTH}/verify/trusteddevice/securitycode`, {
        json: { securityCode: { code } },
        headers: this.authHeaders({ Accept: "application/json" }),
      });
    } catch (error) {
      if (error instanceof ApiError) return false;
      throw error;
    }
    await this.trustSession();
    return !this.requires2fa;
  }

  async requestSmsCode(phone: { id: number; nonFTEU?: boolean }): Promise<void> {
    const phoneNumber: Record<string, unknown> = { id: phone.id };
    if (phone.nonFTEU !== undefined) phoneNumber["nonFTEU"] = phone.nonFTEU;
    await this.request("PUT", `${AUTH}/verify/phone`, {
      json: { phoneNumber, mode: "sms" },
      headers: this.authHeaders({ Accept: "application/json" }),
    });
  }

  async validateSmsCode(phone: { id: number }, code: string): Promise<boolean> {
    await this.request("POST", `${AUTH}/verify/phone/securitycode`, {
      json: { phoneNumber: { id: phone.id }, securityCode: { code }, mode: "sms" },
      headers: this.authHeaders({ Accept: "application/json" }),
    });
    await this.trustSession();
    return !this.requires2fa;
  }

  async trustSession(): Promise<void> {
    await this.request("GET", `${AUTH}/2sv/trust`, { headers: this.authHeaders() });
    try {
      await this.#authenticateWithToken();
    } catch (error) {
      if (!(error instanceof TwoFactorRequired)) throw error;
    }
    this.#updateState();
  }

  webservice(name: string): string {
    const url = dig(this.account, `webservices.${name}.url`);
    if (typeof url !== "string") throw new Error(`no webservice ${name}`);
    return url;
  }

  /** Find My: `initClient` once, then `refreshClient` echoing `serverContext`; 450 → re-auth once. */
  async findMy(shouldLocate = true, retried = false): Promise<Record<string, unknown>> {
    const endpoint = `${this.webservice("findme")}/fmipservice/client/web/${this.#serverContext ? "refreshClient" : "initClient"}`;
    const clientContext: Record<string, unknown> = {
      appName: "iCloud Find (Web)",
      appVersion: "2.0",
      apiVersion: "3.0",
      deviceListVersion: 1,
      fmly: true,
      timezone: "US/Pacific",
      inactiveTime: 0,
    };
    if (shouldLocate) Object.assign(clientContext, { shouldLocate: true, selectedDevice: "all" });
    const body: Record<string, unknown> = { clientContext };
    if (this.#serverContext) body["serverContext"] = this.#serverContext;
    if (shouldLocate) body["isUpdatingAllLocations"] = true;
    try {
      const { res } = await this.request("POST", endpoint, { params: this.params, json: body });
      const json = res.json as Record<string, unknown>;
      this.#serverContext = json["serverContext"];
      return json;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 450 || retried) throw error;
      this.#serverContext = undefined;
      await this.authenticate(true);
      return this.findMy(shouldLocate, true);
    }
  }
}

export class MissingToken extends Error {
  constructor() {
    super("Missing X-APPLE-WEBAUTH-TOKEN cookie / session token");
  }
}

export class TwoFactorRequired extends Error {
  constructor() {
    super("2FA required");
  }
}
