/**
 * Replay of the iCloud.com web app as the protocol reference documents it (sections 1.1–1.12, 2.1,
 * 3.1): the browser opens the idmsa sign-in frame (`GET /appleauth/auth/authorize/signin`), echoes
 * `scnt`, `X-Apple-ID-Session-Id` and `X-Apple-Auth-Attributes` of the latest answer on every idmsa
 * call, sends the browser-only headers (`X-Apple-Domain-Id`, `X-Requested-With`, a fingerprint in
 * `X-Apple-I-FD-Client-Info`), triggers the device code with the 2026 PUT, trusts, opens the web
 * session with accountLogin, validates with body `null`, and calls Find My and CloudKit with the
 * `clientBuildNumber`/`clientMasteringNumber`/`clientId`/`dsid` params. Its cookie jar is a
 * browser's (RFC 6265): a cookie that arrives already expired is dropped, like in Python.
 */
import { randomUUID } from "node:crypto";
import { SrpUser } from "./srp-user.ts";
import { dig, type Wire, type WireResponse } from "./wire.ts";

const AUTH = "https://idmsa.apple.com/appleauth/auth";
const SETUP = "https://setup.icloud.com/setup/ws/1";
const WIDGET = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";
const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15";

interface BrowserCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  expires?: number;
}

export class IcloudWeb {
  readonly wire: Wire;
  readonly appleId: string;
  readonly #password: string;
  readonly frame = `auth-${randomUUID()}`;
  readonly clientId = randomUUID().toUpperCase();
  readonly idmsa: Record<string, string> = {};
  cookies: BrowserCookie[] = [];
  account: Record<string, unknown> = {};
  sessionToken = "";
  trustToken = "";
  #serverContext: unknown;

  constructor(wire: Wire, appleId: string, password: string) {
    this.wire = wire;
    this.appleId = appleId;
    this.#password = password;
  }

  #cookieHeader(url: string): string | undefined {
    const host = new URL(url).hostname;
    const now = Date.now();
    const list = this.cookies.filter(
      (c) =>
        (c.hostOnly ? c.domain === host : `.${host}`.endsWith(`.${c.domain}`)) &&
        (c.expires === undefined || c.expires > now),
    );
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join("; ") : undefined;
  }

  #store(url: string, lines: readonly string[]): void {
    const host = new URL(url).hostname;
    for (const line of lines) {
      const [pair = "", ...attrs] = line.split(";").map((p) => p.trim());
      const eq = pair.indexOf("=");
      const cookie: BrowserCookie = {
        name: pair.slice(0, eq),
        value: pair.slice(eq + 1),
        domain: host,
        hostOnly: true,
      };
      for (const attr of attrs) {
        const [name = "", ...rest] = attr.split("=");
        if (name.toLowerCase() === "domain") {
          cookie.domain = rest.join("=").replace(/^\./, "");
          cookie.hostOnly = false;
        }
        if (name.toLowerCase() === "expires") cookie.expires = Date.parse(rest.join("="));
      }
      this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain));
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) continue;
      this.cookies.push(cookie);
    }
  }

  async #send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<WireResponse> {
    const list: [string, string][] = [["User-Agent", UA], ...Object.entries(headers)];
    const cookie = this.#cookieHeader(url);
    if (cookie) list.push(["Cookie", cookie]);
    const res = await this.wire.send({ method, url, headers: list, ...(body === undefined ? {} : { body }) });
    this.#store(url, res.setCookie);
    return res;
  }

  /** An idmsa call from the sign-in frame: widget headers, browser headers, latest session values. */
  async #idmsa(
    method: string,
    path: string,
    body?: unknown,
    accept = "application/json, text/javascript, */*; q=0.01",
  ) {
    const headers: Record<string, string> = {
      Accept: accept,
      Origin: "https://idmsa.apple.com",
      Referer: "https://idmsa.apple.com/",
      "X-Apple-Widget-Key": WIDGET,
      "X-Apple-OAuth-Client-Id": WIDGET,
      "X-Apple-OAuth-Client-Type": "firstPartyAuth",
      "X-Apple-OAuth-Redirect-URI": "https://www.icloud.com",
      "X-Apple-OAuth-Require-Grant-Code": "true",
      "X-Apple-OAuth-Response-Mode": "web_message",
      "X-Apple-OAuth-Response-Type": "code",
      "X-Apple-OAuth-State": this.frame,
      "X-Apple-Frame-Id": this.frame,
      "X-Apple-Domain-Id": "1",
      "X-Requested-With": "XMLHttpRequest",
      "X-Apple-I-FD-Client-Info": JSON.stringify({
        U: UA,
        L: "en-US",
        Z: "GMT+01:00",
        V: "1.1",
        F: "Fla44j1e3NlY5BNlY5BSmHACVZXnNA9d",
      }),
      ...this.idmsa,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await this.#send(
      method,
      `${AUTH}${path}`,
      headers,
      body === undefined ? undefined : JSON.stringify(body),
    );
    for (const [name, key] of [
      ["scnt", "scnt"],
      ["x-apple-id-session-id", "X-Apple-ID-Session-Id"],
      ["x-apple-auth-attributes", "X-Apple-Auth-Attributes"],
    ] as const) {
      const value = res.headers[name];
      if (typeof value === "string") this.idmsa[key] = value;
    }
    const token = res.headers["x-apple-session-token"];
    if (typeof token === "string") this.sessionToken = token;
    const trust = res.headers["x-apple-twosv-trust-token"];
    if (typeof trust === "string") this.trustToken = trust;
    return res;
  }

  async signIn(): Promise<number> {
    const query = new URLSearchParams({
      frame_id: this.frame,
      skVersion: "7",
      iframeid: this.frame,
      client_id: WIDGET,
      response_type: "code",
      redirect_uri: "https://www.icloud.com",
      response_mode: "web_message",
      state: this.frame,
      authVersion: "latest",
    });
    const page = await this.#send("GET", `${AUTH}/authorize/signin?${query.toString()}`, { Accept: "text/html" });
    for (const [name, key] of [
      ["scnt", "scnt"],
      ["x-apple-id-session-id", "X-Apple-ID-Session-Id"],
      ["x-apple-auth-attributes", "X-Apple-Auth-Attributes"],
    ] as const) {
      const value = page.headers[name];
      if (typeof value === "string") this.idmsa[key] = value;
    }
    const user = new SrpUser(this.appleId);
    const init = await this.#idmsa("POST", "/signin/init", {
      a: user.a,
      accountName: this.appleId,
      protocols: ["s2k", "s2k_fo"],
    });
    const challenge = init.json as { salt: string; b: string; c: string; iteration: number; protocol: string };
    const proof = user.proof(this.#password, challenge);
    const complete = await this.#idmsa("POST", "/signin/complete?isRememberMeEnabled=true", {
      accountName: this.appleId,
      rememberMe: true,
      trustTokens: this.trustToken ? [this.trustToken] : [],
      m1: proof.m1,
      c: challenge.c,
      m2: proof.m2,
    });
    return complete.status;
  }

  /** 2026: the auth page, then the PUT that makes the devices show a code. */
  async startTwoFactor(): Promise<void> {
    await this.#idmsa("GET", "", undefined, "text/html");
    const sent = await this.#idmsa("PUT", "/verify/trusteddevice/securitycode");
    if (sent.status >= 300) throw new Error(`web: trigger ${sent.status}`);
  }

  async enterDeviceCode(code: string): Promise<void> {
    const res = await this.#idmsa("POST", "/verify/trusteddevice/securitycode", { securityCode: { code } });
    if (res.status !== 204) throw new Error(`web: code ${res.status}`);
    const trust = await this.#idmsa("GET", "/2sv/trust");
    if (trust.status !== 204) throw new Error(`web: trust ${trust.status}`);
  }

  #params(): string {
    const params = new URLSearchParams({
      clientBuildNumber: "2534Project66",
      clientMasteringNumber: "2534B22",
      clientId: this.clientId,
    });
    const dsid = dig(this.account, "dsInfo.dsid");
    if (typeof dsid === "string") params.set("dsid", dsid);
    return params.toString();
  }

  async #setup(path: string, body: string): Promise<WireResponse> {
    const res = await this.#send(
      "POST",
      `${SETUP}/${path}?${this.#params()}`,
      {
        Accept: "*/*",
        "Content-Type": "text/plain;charset=UTF-8",
        Origin: "https://www.icloud.com",
        Referer: "https://www.icloud.com/",
      },
      body,
    );
    if (res.status === 200) this.account = res.json as Record<string, unknown>;
    return res;
  }

  accountLogin(): Promise<WireResponse> {
    return this.#setup(
      "accountLogin",
      JSON.stringify({
        dsWebAuthToken: this.sessionToken,
        accountCountryCode: "USA",
        extended_login: true,
        trustToken: this.trustToken,
      }),
    );
  }

  validate(): Promise<WireResponse> {
    return this.#setup("validate", "null");
  }

  async service(name: string, path: string, body: unknown): Promise<WireResponse> {
    const base = String(dig(this.account, `webservices.${name}.url`));
    return this.#send(
      "POST",
      `${base}${path}?${this.#params()}`,
      {
        Accept: "*/*",
        "Content-Type": "text/plain",
        Origin: "https://www.icloud.com",
        Referer: "https://www.icloud.com/",
      },
      JSON.stringify(body),
    );
  }

  async findMy(): Promise<WireResponse> {
    const clientContext = {
      appName: "iCloud Find (Web)",
      appVersion: "2.0",
      apiVersion: "3.0",
      deviceListVersion: 1,
      fmly: true,
      timezone: "US/Pacific",
      inactiveTime: 0,
    };
    const res = this.#serverContext
      ? await this.service("findme", "/fmipservice/client/web/refreshClient", {
          clientContext,
          serverContext: this.#serverContext,
        })
      : await this.service("findme", "/fmipservice/client/web/initClient", { clientContext });
    if (res.status === 200) this.#serverContext = dig(res.json, "serverContext");
    return res;
  }
}
