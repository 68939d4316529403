/**
 * Replay of icloud-photos-downloader/icloud_photos_downloader (icloudpd, 2025–26):
 * `src/pyicloud_ipd/base.py` (`authenticate`, `_authenticate_srp`, `_authenticate_with_token`,
 * `_get_auth_headers`, `get_trusted_phone_numbers`, `send_2fa_code_sms`, `validate_2fa_code_sms`,
 * `validate_2fa_code`, `trust_session`), `src/pyicloud_ipd/sms.py` (the hand-built MFA requests),
 * `src/pyicloud_ipd/session.py` (HEADER_DATA stored from answers to `session.request` only; one
 * retry on 421/450/500) and `src/pyicloud_ipd/services/photos.py` (CheckIndexingState,
 * `zones/list` without a query string, batch count, `startRank` paging, streamed downloads), plus
 * the 2026 changes: PR #1335/#1344 `PUT /verify/trusteddevice/securitycode` before prompting, and
 * PR #1325 reading the phone list from `bridgeInitiateData` too.
 *
 * What matters on the wire: the SMS calls are prepared outside the session (`Request(...).prepare()`
 * + `session.send`): no cookies, no Accept, and the scnt stored *before* them; their answers never
 * update the stored scnt, so `2sv/trust` afterwards also carries an old one.
 */
import { type PyParams, pyJson, RequestsSession } from "./python-requests.ts";
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

export class IcloudpdError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(res: WireResponse, code: string) {
    super(`${res.status} ${code} from ${new URL(res.url).pathname}`);
    this.status = res.status;
    this.code = code;
  }
}

export interface Photo {
  id: string;
  filename: string;
  size: number;
  url: string;
}

export class Icloudpd {
  readonly session: RequestsSession;
  readonly data: Record<string, string>;
  readonly params: PyParams;
  readonly appleId: string;
  readonly #password: string;
  account: Record<string, unknown> = {};

  constructor(wire: Wire, appleId: string, password: string, stored?: Icloudpd) {
    this.appleId = appleId;
    this.#password = password;
    this.session = new RequestsSession(wire);
    this.data = { client_id: "auth-0f0e5c5e-1a2b-11f1-9c6d-0242ac120003", ...(stored?.data ?? {}) };
    if (stored) this.session.jar.cookies = [...stored.session.jar.cookies];
    Object.assign(this.session.headers, {
      Origin: HOME,
      Referer: `${HOME}/`,
      "User-Agent": "Opera/9.52 (X11; Linux i686; U; en)",
    });
    this.params = {
      clientBuildNumber: "17DHotfix5",
      clientMasteringNumber: "17DHotfix5",
      ckjsBuildVersion: "17DProjectDev77",
      ckjsVersion: "2.0.5",
      clientId: this.data["client_id"] ?? "",
    };
  }

  /** PyiCloudSession.request: store HEADER_DATA; retry 421/450/500 once; raise on errors. */
  async request(
    method: string,
    url: string,
    options: Parameters<RequestsSession["request"]>[2] = {},
    retried = false,
  ): Promise<WireResponse> {
    const res = await this.session.request(method, url, options);
    for (const [name, key] of Object.entries(HEADER_DATA)) {
      const value = res.headers[name];
      if (typeof value === "string" && value) this.data[key] = value;
    }
    const type = String(res.headers["content-type"] ?? "").split(";")[0] ?? "";
    const isJson = type === "application/json" || type === "text/json";
    if (res.status >= 400 && (!isJson || [421, 450, 500].includes(res.status))) {
      if (!retried && [421, 450, 500].includes(res.status)) return this.request(method, url, options, true);
      throw new IcloudpdError(res, String(res.status));
    }
    if (!isJson) return res;
    const json = res.json;
    if (json && typeof json === "object" && !Array.isArray(json)) {
      const data = json as Record<string, unknown>;
      if (data["hasError"]) throw new IcloudpdError(res, String(dig(data, "service_errors.0.code") ?? "Unknown"));
      if (!data["success"]) {
        const reason = data["errorMessage"] ?? data["reason"] ?? data["errorReason"] ?? data["error"];
        if (reason) throw new IcloudpdError(res, String(data["errorCode"] ?? data["serverErrorCode"] ?? data["error"]));
      }
    }
    return res;
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

  get requires2fa(): boolean {
    return (
      dig(this.account, "dsInfo.hsaVersion") === 2 &&
      (this.account["hsaChallengeRequired"] === true || this.account["hsaTrustedBrowser"] !== true) &&
      dig(this.account, "dsInfo.hasICloudQualifyingDevice") === true
    );
  }

  async authenticate(forceRefresh = false): Promise<void> {
    let ok = false;
    if (this.data["session_token"] && !forceRefresh) {
      try {
        this.account = (await this.request("POST", `${SETUP}/validate`, { data: "null" })).json as Record<
          string,
          unknown
        >;
        ok = true;
      } catch (error) {
        if (!(error instanceof IcloudpdError)) throw error;
      }
    }
    if (!ok) {
      await this.#srp();
      await this.#authenticateWithToken();
    }
    this.params["dsid"] = String(dig(this.account, "dsInfo.dsid"));
  }

  async #authenticateWithToken(): Promise<void> {
    const res = await this.request("POST", `${SETUP}/accountLogin`, {
      data: pyJson({
        accountCountryCode: this.data["account_country"] ?? null,
        dsWebAuthToken: this.data["session_token"] ?? null,
        extended_login: true,
        trustToken: this.data["trust_token"] ?? "",
      }),
    });
    this.account = res.json as Record<string, unknown>;
  }

  async #srp(): Promise<void> {
    const user = new SrpUser(this.appleId);
    const headers = this.authHeaders();
    const init = await this.request("POST", `${AUTH}/signin/init`, {
      data: pyJson({ a: user.a, accountName: this.appleId, protocols: ["s2k", "s2k_fo"] }),
      headers,
    });
    const challenge = init.json as { salt: string; b: string; c: string; iteration: number; protocol: string };
    const proof = user.proof(this.#password, challenge);
    const complete = await this.request("POST", `${AUTH}/signin/complete`, {
      params: { isRememberMeEnabled: "true" },
      data: pyJson({
        accountName: this.appleId,
        c: challenge.c,
        m1: proof.m1,
        m2: proof.m2,
        rememberMe: true,
        trustTokens: this.data["trust_token"] ? [this.data["trust_token"]] : [],
      }),
      headers,
    });
    if (complete.status === 412) {
      await this.request("POST", `${AUTH}/repair/complete`, { data: pyJson({}), headers: this.authHeaders() });
    } else if (complete.status >= 400 && complete.status !== 409) {
      throw new IcloudpdError(complete, String(complete.status));
    }
  }

  /** PR #1335: `trigger_push_notification` before prompting (through the session). */
  async triggerPushNotification(): Promise<void> {
    await this.request("PUT", `${AUTH}/verify/trusteddevice/securitycode`, { headers: this.authHeaders() });
  }

  #oauth(): Record<string, string> {
    return {
      "X-Apple-OAuth-Client-Id": WIDGET,
      "X-Apple-OAuth-Client-Type": "firstPartyAuth",
      "X-Apple-OAuth-Require-Grant-Code": "true",
      "X-Apple-Widget-Key": WIDGET,
      "X-Apple-OAuth-Redirect-URI": "https://www.icloud.com",
      "X-Apple-OAuth-State": this.data["client_id"] ?? "",
      scnt: this.data["scnt"] ?? "",
      "X-Apple-ID-Session-Id": this.data["session_id"] ?? "",
    };
  }

  /** `get_trusted_phone_numbers`: hand-built GET of the auth page, boot_args parsed (+ PR #1325 fallback). */
  async trustedPhoneNumbers(): Promise<{ id: number; obfuscatedNumber: string }[]> {
    const res = await this.session.sendPrepared("GET", AUTH, this.#oauth());
    if (res.status !== 200 && res.status !== 204) return [];
    const twoSV = dig(bootArgs(res.text), "direct.twoSV");
    type Numbers = { id: number; obfuscatedNumber: string }[];
    const numbers =
      (dig(twoSV, "phoneNumberVerification.trustedPhoneNumbers") as Numbers | undefined) ??
      (dig(twoSV, "bridgeInitiateData.phoneNumberVerification.trustedPhoneNumbers") as Numbers | undefined) ??
      [];
    return numbers.filter((n) => n.id !== undefined && n.obfuscatedNumber !== undefined);
  }

  async send2faCodeSms(deviceId: number): Promise<boolean> {
    const res = await this.session.sendPrepared(
      "PUT",
      `${AUTH}/verify/phone`,
      { ...this.#oauth(), "Content-type": "application/json; charset=utf-8" },
      { phoneNumber: { id: deviceId }, mode: "sms" },
    );
    return res.status < 400;
  }

  async validate2faCodeSms(deviceId: number, code: string): Promise<boolean> {
    const res = await this.session.sendPrepared(
      "POST",
      `${AUTH}/verify/phone/securitycode`,
      {
        ...this.#oauth(),
        "Content-type": "application/json; charset=utf-8",
        Accept: "application/json; charset=utf-8",
      },
      { phoneNumber: { id: deviceId }, securityCode: { code }, mode: "sms" },
    );
    return res.status < 400 ? this.trustSession() : false;
  }

  async validate2faCode(code: string): Promise<boolean> {
    try {
      await this.request("POST", `${AUTH}/verify/trusteddevice/securitycode`, {
        data: pyJson({ securityCode: { code } }),
        headers: this.authHeaders({ Accept: "application/json" }),
      });
    } catch (error) {
      if (error instanceof IcloudpdError && error.code === "-21669") return false;
      throw error;
    }
    await this.trustSession();
    return !this.requires2fa;
  }

  async trustSession(): Promise<boolean> {
    try {
      await this.request("GET", `${AUTH}/2sv/trust`, { headers: this.authHeaders() });
      await this.#authenticateWithToken();
      return true;
    } catch (error) {
      if (error instanceof IcloudpdError) return false;
      throw error;
    }
  }

  // --- photos ----------------------------------------------------------------------------------

  get #endpoint(): string {
    return `${String(dig(this.account, "webservices.ckdatabasews.url"))}/database/1/com.apple.photos.cloud/production/private`;
  }

  get #photoParams(): PyParams {
    return { ...this.params, remapEnums: true, getCurrentSyncToken: true };
  }

  async #post(path: string, body: unknown, params?: PyParams): Promise<Record<string, unknown>> {
    const res = await this.request("POST", `${this.#endpoint}${path}`, {
      ...(params ? { params } : {}),
      data: typeof body === "string" ? body : pyJson(body),
      headers: { "Content-type": "text/plain" },
    });
    return res.json as Record<string, unknown>;
  }

  /** PhotosService(): CheckIndexingState of PrimarySync, then `libraries` (zones/list, no query). */
  async libraries(): Promise<Record<string, unknown>[]> {
    const state = await this.#post(
      "/records/query",
      { query: { recordType: "CheckIndexingState" }, zoneID: { zoneName: "PrimarySync" } },
      this.#photoParams,
    );
    if (dig(state, "records.0.fields.state.value") !== "FINISHED")
      throw new Error("iCloud Photo Library not finished indexing");
    const zones = (await this.#post("/zones/list", "{}"))["zones"] as Record<string, unknown>[];
    const libraries: Record<string, unknown>[] = [];
    for (const zone of zones.filter((z) => !z["deleted"])) {
      const zoneId = zone["zoneID"] as Record<string, unknown>;
      const check = await this.#post(
        "/records/query",
        { query: { recordType: "CheckIndexingState" }, zoneID: zoneId },
        this.#photoParams,
      );
      if (dig(check, "records.0.fields.state.value") !== "FINISHED") throw new Error("not finished indexing");
      libraries.push(zoneId);
    }
    return libraries;
  }

  /** "All Photos" of a library: batch count, then `startRank` pages of 100 photos until one is empty. */
  async allPhotos(zoneId: Record<string, unknown>): Promise<{ count: number; photos: Photo[] }> {
    const counted = await this.#post(
      "/internal/records/query/batch",
      {
        batch: [
          {
            resultsLimit: 1,
            query: {
              filterBy: {
                fieldName: "indexCountID",
                fieldValue: { type: "STRING_LIST", value: ["CPLAssetByAssetDateWithoutHiddenOrDeleted"] },
                comparator: "IN",
              },
              recordType: "HyperionIndexCountLookup",
            },
            zoneWide: true,
            zoneID: zoneId,
          },
        ],
      },
      this.#photoParams,
    );
    const count = Number(dig(counted, "batch.0.records.0.fields.itemCount.value"));
    const photos: Photo[] = [];
    let offset = 0;
    for (;;) {
      const page = await this.#post(
        "/records/query",
        {
          query: {
            filterBy: [
              { fieldName: "startRank", fieldValue: { type: "INT64", value: offset }, comparator: "EQUALS" },
              { fieldName: "direction", fieldValue: { type: "STRING", value: "ASCENDING" }, comparator: "EQUALS" },
            ],
            recordType: "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
          },
          resultsLimit: 200,
          desiredKeys: [
            "resOriginalRes",
            "resOriginalFileType",
            "filenameEnc",
            "itemType",
            "masterRef",
            "assetDate",
            "addedDate",
            "recordName",
            "recordType",
          ],
          zoneID: zoneId,
        },
        this.#photoParams,
      );
      const records = (page["records"] ?? []) as Record<string, unknown>[];
      const assets = new Map<string, Record<string, unknown>>();
      const masters: Record<string, unknown>[] = [];
      for (const record of records) {
        if (record["recordType"] === "CPLAsset")
          assets.set(String(dig(record, "fields.masterRef.value.recordName")), record);
        else if (record["recordType"] === "CPLMaster") masters.push(record);
      }
      if (masters.length === 0) break;
      offset += masters.length;
      for (const master of masters) {
        const name = String(master["recordName"]);
        if (!assets.has(name)) throw new Error(`no CPLAsset for ${name}`);
        const filenameEnc = dig(master, "fields.filenameEnc") as { value: string; type: string } | undefined;
        const filename = filenameEnc
          ? filenameEnc.type === "STRING"
            ? filenameEnc.value
            : Buffer.from(filenameEnc.value, "base64").toString("utf8")
          : name.replace(/[^0-9a-zA-Z]/g, "_").slice(0, 12);
        photos.push({
          id: name,
          filename,
          size: Number(dig(master, "fields.resOriginalRes.value.size")),
          url: String(dig(master, "fields.resOriginalRes.value.downloadURL")),
        });
      }
    }
    return { count, photos };
  }

  /** `PhotoAsset.download`: `session.get(url, stream=True)`; requests percent-encodes `${f}`. */
  async download(url: string): Promise<WireResponse> {
    return this.request("GET", url.replace(/\$\{f\}/, "$$%7Bf%7D"));
  }
}
