/**
 * Replay of steilerDev/icloud-photos-sync (ips, TypeScript, 2026): `app/src/lib/icloud/icloud.ts`
 * (`authenticate`/`getSRPLogin`, `getTrustedPhoneNumbers` with `Accept: application/json` reading
 * JSON or the HTML boot_args, `resendMFA`, `submitMFA`, `getTokens`, `setupAccount`),
 * `app/src/lib/resources/network-manager.ts` (its `HeaderJar`: static headers per domain, the scnt
 * of every idmsa answer, `X-Apple-ID-Session-Id` = `x-apple-id-session-id` ?? session token after
 * signin, one cookie per *name* whatever its domain, expired cookies dropped except Apple's
 * Unix-time-1000 HSA-LOGIN; a header or cookie applies when the URL contains its domain) and
 * `app/src/lib/icloud/icloud-photos/icloud-photos.ts` (`changes/database` per area with no query
 * string, `records/query?remapEnums=True` for CheckIndexingState, the count
 * (HyperionIndexCountLookup) and `startRank` ranges of 100, downloads with a bare stream client).
 */
import { dig, type Wire, type WireResponse } from "./wire.ts";

const AUTH = "https://idmsa.apple.com/appleauth/auth";
const SETUP = "https://setup.icloud.com/setup/ws/1";
const CLIENT_ID = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";
const USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:97.0) Gecko/20100101 Firefox/97.0";
const CLIENT_INFO = JSON.stringify({ U: USER_AGENT, L: "en-US", Z: "GMT+01:00", V: "1.1", F: "" });
const PHOTOS_BASE = "/database/1/com.apple.photos.cloud/production";
const MAX_RECORDS_LIMIT = 200;

interface JarCookie {
  key: string;
  value: string;
  domain: string | null;
  expires?: number;
}

/** tough-cookie's `Cookie.parse` of one Set-Cookie line: no URL context, so no default domain. */
function parseCookie(line: string): JarCookie {
  const [pair = "", ...attrs] = line.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const cookie: JarCookie = { key: pair.slice(0, eq), value: pair.slice(eq + 1), domain: null };
  for (const attr of attrs) {
    const [name = "", ...rest] = attr.split("=");
    const value = rest.join("=");
    if (name.toLowerCase() === "domain") cookie.domain = value.replace(/^\./, "").toLowerCase();
    if (name.toLowerCase() === "expires") cookie.expires = Date.parse(value);
  }
  return cookie;
}

export class IcloudPhotosSync {
  readonly wire: Wire;
  readonly username: string;
  readonly #password: string;
  trustToken: string | undefined;
  sessionSecret: string | undefined;
  accountCountry: string | undefined;
  photosUrl: string | undefined;
  readonly headers = new Map<string, { domain: string; value: string }>();
  readonly cookies = new Map<string, JarCookie>();

  constructor(wire: Wire, username: string, password: string, trustToken?: string) {
    this.wire = wire;
    this.username = username;
    this.#password = password;
    this.trustToken = trustToken;
    for (const [key, value] of [
      ["Accept", "application/json"],
      ["Content-Type", "application/json"],
      ["Connection", "keep-alive"],
      ["Accept-Encoding", "gzip, deflate, br"],
      ["User-Agent", USER_AGENT],
    ] as const) {
      this.headers.set(key, { domain: "", value });
    }
    for (const [key, value] of [
      ["Origin", "https://idmsa.apple.com"],
      ["Referer", "https://idmsa.apple.com/"],
      ["X-Apple-Widget-Key", CLIENT_ID],
      ["X-Apple-OAuth-Client-Id", CLIENT_ID],
      ["X-Apple-I-FD-Client-Info", CLIENT_INFO],
      ["X-Apple-OAuth-Response-Type", "code"],
      ["X-Apple-OAuth-Response-Mode", "web_message"],
      ["X-Apple-OAuth-Client-Type", "firstPartyAuth"],
    ] as const) {
      this.headers.set(key, { domain: "idmsa.apple.com", value });
    }
  }

  /** The axios instance with the HeaderJar interceptors. */
  async send(
    method: string,
    url: string,
    options: { data?: unknown; params?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<WireResponse> {
    const full = options.params ? `${url}?${new URLSearchParams(options.params).toString()}` : url;
    const headers = new Map<string, [string, string]>();
    // axios defaults, the instance's Origin, the request's own headers, then the jar's (which win).
    headers.set("accept", ["Accept", "application/json, text/plain, */*"]);
    headers.set("origin", ["Origin", "https://www.icloud.com"]);
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name.toLowerCase(), [name, value]);
    const now = Date.now();
    const cookie = [...this.cookies.values()]
      .filter((c) => full.includes(String(c.domain)))
      .filter((c) => c.expires === undefined || c.expires > now || c.expires === 1000)
      .map((c) => `${c.key}=${c.value}`)
      .join("; ");
    if (cookie) headers.set("cookie", ["Cookie", cookie]);
    for (const [key, header] of this.headers) {
      if (full.includes(header.domain)) headers.set(key.toLowerCase(), [key, header.value]);
    }
    let body: string | undefined;
    if (options.data !== undefined) body = JSON.stringify(options.data);
    else headers.delete("content-type");
    const res = await this.wire.send({
      method,
      url: full,
      headers: [...headers.values()],
      ...(body === undefined ? {} : { body }),
    });
    const scnt = res.headers["scnt"];
    if (typeof scnt === "string" && full.includes("idmsa.apple.com"))
      this.headers.set("scnt", { domain: "idmsa.apple.com", value: scnt });
    for (const line of res.setCookie) {
      const parsed = parseCookie(line);
      this.cookies.set(parsed.key, parsed);
    }
    return res;
  }

  #expect(res: WireResponse, ok: (status: number) => boolean): WireResponse {
    if (!ok(res.status))
      throw new Error(`ips: ${res.status} from ${new URL(res.url).pathname}: ${res.text.slice(0, 200)}`);
    return res;
  }

  /** `authenticate()`: SRP; 409 → phone numbers + device trigger (MFA_REQUIRED); 200 → trusted. */
  async authenticate(): Promise<"mfa" | "trusted"> {
    const { SrpUser } = await import("./srp-user.ts");
    const user = new SrpUser(this.username);
    const init = this.#expect(
      await this.send("POST", `${AUTH}/signin/init`, {
        data: { a: user.a, accountName: this.username, protocols: ["s2k", "s2k_fo"] },
      }),
      (s) => s >= 200 && s < 300,
    );
    const challenge = init.json as { salt: string; b: string; c: string; iteration: number; protocol: string };
    const proof = user.proof(this.#password, challenge);
    const res = this.#expect(
      await this.send("POST", `${AUTH}/signin/complete`, {
        params: { isRememberMeEnabled: "true" },
        data: {
          accountName: this.username,
          trustTokens: [this.trustToken],
          m1: proof.m1,
          m2: proof.m2,
          c: challenge.c,
        },
      }),
      (s) => s === 409 || s === 200,
    );
    this.sessionSecret = String(res.headers["x-apple-session-token"]);
    this.accountCountry = res.headers["x-apple-id-account-country"] as string | undefined;
    const sessionId = (res.headers["x-apple-id-session-id"] as string | undefined) ?? this.sessionSecret;
    this.headers.set("X-Apple-ID-Session-Id", { domain: "idmsa.apple.com", value: sessionId });
    if (res.status === 200) return "trusted";
    this.trustedPhoneNumbers = await this.getTrustedPhoneNumbers();
    await this.resendMFA({ kind: "device" });
    return "mfa";
  }

  trustedPhoneNumbers: { id: number; numberWithDialCode: string }[] = [];

  async getTrustedPhoneNumbers(): Promise<{ id: number; numberWithDialCode: string }[]> {
    const res = await this.send("GET", AUTH, { headers: { Accept: "application/json" } });
    if (res.status >= 400) return [];
    const info =
      res.json === undefined
        ? dig(
            JSON.parse(/<script[^>]*class="boot_args"[^>]*>([\s\S]*?)<\/script>/.exec(res.text)?.[1] ?? "{}"),
            "direct.twoSV",
          )
        : res.json;
    const list =
      dig(info, "trustedPhoneNumbers") ??
      dig(info, "phoneNumberVerification.trustedPhoneNumbers") ??
      dig(info, "bridgeInitiateData.phoneNumberVerification.trustedPhoneNumbers");
    return Array.isArray(list) ? (list as { id: number; numberWithDialCode: string }[]) : [];
  }

  /** `resendMFA`: device → PUT …/verify/trusteddevice/securitycode (no body); phone → PUT /verify/phone. */
  async resendMFA(method: { kind: "device" } | { kind: "sms" | "voice"; id: number }): Promise<void> {
    if (method.kind === "device") {
      this.#expect(
        await this.send("PUT", `${AUTH}/verify/trusteddevice/securitycode`),
        (s) => s === 202 || s === 204 || s === 200,
      );
      return;
    }
    this.#expect(
      await this.send("PUT", `${AUTH}/verify/phone`, { data: { phoneNumber: { id: method.id }, mode: method.kind } }),
      (s) => s === 200,
    );
  }

  /** `submitMFA` then `getTokens` (GET /2sv/trust, 204). */
  async submitMFA(method: { kind: "device" } | { kind: "sms" | "voice"; id: number }, code: string): Promise<void> {
    if (method.kind === "device") {
      this.#expect(
        await this.send("POST", `${AUTH}/verify/trusteddevice/securitycode`, { data: { securityCode: { code } } }),
        (s) => s === 204 || s === 409,
      );
    } else {
      this.#expect(
        await this.send("POST", `${AUTH}/verify/phone/securitycode`, {
          data: { securityCode: { code }, phoneNumber: { id: method.id }, mode: method.kind },
        }),
        (s) => s === 200 || s === 409,
      );
    }
    const trust = this.#expect(await this.send("GET", `${AUTH}/2sv/trust`), (s) => s === 204);
    this.trustToken = String(trust.headers["x-apple-twosv-trust-token"]);
    this.sessionSecret = String(trust.headers["x-apple-session-token"]);
  }

  /** `setupAccount`: accountLogin; 421 means the session token expired (authenticate again). */
  async setupAccount(): Promise<"ready" | "expired"> {
    const res = await this.send("POST", `${SETUP}/accountLogin`, {
      data: {
        dsWebAuthToken: this.sessionSecret,
        accountCountryCode: this.accountCountry,
        extended_login: true,
        trustToken: this.trustToken,
      },
    });
    if (res.status === 421) return "expired";
    this.#expect(res, (s) => s === 200);
    this.photosUrl = `${String(dig(res.json, "webservices.ckdatabasews.url"))}${PHOTOS_BASE}`;
    if (dig(res.json, "webservices.ckdatabasews.pcsRequired") === true) {
      const pcs = [...this.cookies.keys()].filter(
        (key) => key === "X-APPLE-WEBAUTH-PCS-Photos" || key === "X-APPLE-WEBAUTH-PCS-Sharing",
      );
      if (pcs.length !== 2) throw new Error("ips: PCS cookies missing");
    }
    return "ready";
  }

  /** Photos setup: zones of both areas via changes/database, then the primary zone's indexing state. */
  async setupPhotos(): Promise<Record<string, unknown>> {
    const zones: Record<string, unknown[]> = {};
    for (const area of ["private", "shared"]) {
      const res = this.#expect(
        await this.send("POST", `${this.photosUrl}/${area}/changes/database`, { data: {} }),
        (s) => s === 200,
      );
      zones[area] = (dig(res.json, "zones") as unknown[]) ?? [];
    }
    const primary = (zones["private"] ?? []).find((zone) => dig(zone, "zoneID.zoneName") === "PrimarySync");
    if (!primary) throw new Error("ips: no primary zone");
    const zoneID = dig(primary, "zoneID") as Record<string, unknown>;
    const [state] = await this.query(zoneID, "CheckIndexingState");
    if (dig(state, "fields.state.value") !== "FINISHED") throw new Error("ips: indexing not finished");
    return zoneID;
  }

  async #queryPage(
    zoneID: Record<string, unknown>,
    recordType: string,
    filterBy?: unknown[],
    resultsLimit?: number,
    desiredKeys?: string[],
    continuationMarker?: string,
  ) {
    const data: Record<string, unknown> = {
      query: { recordType },
      zoneID: {
        zoneName: zoneID["zoneName"],
        zoneType: zoneID["zoneType"],
        ownerRecordName: zoneID["ownerRecordName"],
      },
    };
    if (filterBy) (data["query"] as Record<string, unknown>)["filterBy"] = filterBy;
    if (desiredKeys) data["desiredKeys"] = desiredKeys;
    if (resultsLimit) data["resultsLimit"] = resultsLimit;
    if (continuationMarker) data["continuationMarker"] = continuationMarker;
    const res = this.#expect(
      await this.send("POST", `${this.photosUrl}/private/records/query`, { data, params: { remapEnums: "True" } }),
      (s) => s === 200,
    );
    return {
      records: (dig(res.json, "records") as Record<string, unknown>[]) ?? [],
      marker: dig(res.json, "continuationMarker") as string | undefined,
    };
  }

  /** `performQuery`: follows continuation markers. */
  async query(
    zoneID: Record<string, unknown>,
    recordType: string,
    filterBy?: unknown[],
  ): Promise<Record<string, unknown>[]> {
    const records: Record<string, unknown>[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#queryPage(zoneID, recordType, filterBy, undefined, undefined, marker);
      records.push(...page.records);
      marker = page.records.length > 0 && page.marker !== marker ? page.marker : undefined;
    } while (marker);
    return records;
  }

  /** `fetchAllPictureRecordsForZone`: count, then ranges of 100 positions requested in parallel. */
  async allPictureRecords(
    zoneID: Record<string, unknown>,
  ): Promise<{ expected: number; records: Record<string, unknown>[] }> {
    const [count] = await this.query(zoneID, "HyperionIndexCountLookup", [
      {
        fieldName: "indexCountID",
        comparator: "IN",
        fieldValue: { type: "STRING_LIST", value: ["CPLAssetByAssetDateWithoutHiddenOrDeleted"] },
      },
    ]);
    const expected = Number.parseInt(String(dig(count, "fields.itemCount.value")), 10);
    const perRequest = Math.floor(MAX_RECORDS_LIMIT / 2);
    const ranges: Promise<Record<string, unknown>[]>[] = [];
    for (let start = 0; start < expected; start += perRequest) {
      ranges.push(this.#range(zoneID, start, Math.min(start + perRequest, expected)));
    }
    const seen = new Set<string>();
    const records: Record<string, unknown>[] = [];
    for (const list of await Promise.all(ranges)) {
      for (const record of list) {
        const key = `${String(record["recordType"])}/${String(record["recordName"])}`;
        if (seen.has(key)) continue;
        seen.add(key);
        records.push(record);
      }
    }
    return { expected, records };
  }

  async #range(
    zoneID: Record<string, unknown>,
    startRank: number,
    endRank: number,
  ): Promise<Record<string, unknown>[]> {
    const records: Record<string, unknown>[] = [];
    let queryRank = startRank;
    let received = startRank;
    let marker: string | undefined;
    while (received < endRank) {
      const filters = [
        { fieldName: "startRank", comparator: "EQUALS", fieldValue: { type: "INT64", value: queryRank } },
        { fieldName: "direction", comparator: "EQUALS", fieldValue: { type: "STRING", value: "ASCENDING" } },
      ];
      const page = await this.#queryPage(
        zoneID,
        "CPLAssetAndMasterByAssetDateWithoutHiddenOrDeleted",
        filters,
        MAX_RECORDS_LIMIT,
        ["resOriginalRes", "resOriginalFileType", "filenameEnc", "masterRef", "recordName"],
        marker,
      );
      const positions = page.records.filter((r) => r["recordType"] === "CPLAsset").length;
      if (positions === 0) break;
      records.push(...page.records);
      received += positions;
      if (page.marker && page.marker !== marker) marker = page.marker;
      else {
        marker = undefined;
        queryRank = received;
      }
    }
    return records;
  }

  /** `downloadData`: the streaming axios instance, no jar: no cookies, no Apple headers. */
  async download(url: string): Promise<WireResponse> {
    const target = new URL(url).toString();
    return this.wire.send({
      method: "GET",
      url: target,
      headers: [
        ["Accept", "application/json, text/plain, */*"],
        ["User-Agent", "axios/1.7.9"],
      ],
    });
  }
}
