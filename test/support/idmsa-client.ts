import { fileURLToPath } from "node:url";
import { type Dispatcher, fetch, type RequestInit } from "undici";
import { SrpClient } from "../../src/icloud/srp.ts";

export const TEST_SCENARIO = fileURLToPath(new URL("../../src/simulator/scenarios/test.yaml", import.meta.url));

/** Walks a dotted path (`a.b.0.c`) through parsed JSON. */
export function dig(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** iCloud.com's OAuth widget key (protocol reference 1.2), spelled out here independently of src/. */
export const WIDGET_KEY = "d39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d";

/** The OAuth "widget" headers every public iCloud.com client sends to idmsa (reference 1.2). */
export const WIDGET_HEADERS: Readonly<Record<string, string>> = {
  "X-Apple-Widget-Key": WIDGET_KEY,
  "X-Apple-OAuth-Client-Id": WIDGET_KEY,
  "X-Apple-OAuth-Client-Type": "firstPartyAuth",
  "X-Apple-OAuth-Redirect-URI": "https://www.icloud.com",
  "X-Apple-OAuth-Require-Grant-Code": "true",
  "X-Apple-OAuth-Response-Mode": "web_message",
  "X-Apple-OAuth-Response-Type": "code",
  "X-Apple-OAuth-State": "auth-00000000-0000-1000-8000-000000000000",
};

/** A tiny independent client: keeps scnt/session id like real clients and a naive cookie jar. */
export class TestClient {
  readonly origin: string;
  readonly session: Record<string, string> = {};
  readonly cookies = new Map<string, { value: string; expires?: string }>();
  readonly dispatcher: Dispatcher | undefined;

  constructor(origin: string, dispatcher?: Dispatcher) {
    this.origin = origin;
    this.dispatcher = dispatcher;
  }

  async request(
    method: string,
    path: string,
    options: { json?: unknown; body?: string; headers?: Record<string, string>; widget?: boolean } = {},
  ) {
    // idmsa calls carry the widget headers unless a test leaves them out (`widget: false`).
    const widget = path.startsWith("/appleauth/") && options.widget !== false ? WIDGET_HEADERS : {};
    const headers: Record<string, string> = { Accept: "application/json", ...widget, ...options.headers };
    if (this.session["scnt"]) headers["scnt"] = this.session["scnt"];
    if (this.session["sessionId"]) headers["X-Apple-ID-Session-Id"] = this.session["sessionId"];
    if (this.cookies.size > 0)
      headers["Cookie"] = [...this.cookies].map(([name, c]) => `${name}=${c.value}`).join("; ");
    let body: string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["Content-Type"] = "application/json";
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (this.dispatcher) init.dispatcher = this.dispatcher;
    const response = await fetch(`${this.origin}${path}`, init);
    const scnt = response.headers.get("scnt");
    if (scnt) this.session["scnt"] = scnt;
    const sessionId = response.headers.get("x-apple-id-session-id");
    if (sessionId) this.session["sessionId"] = sessionId;
    const token = response.headers.get("x-apple-session-token");
    if (token) this.session["sessionToken"] = token;
    const trust = response.headers.get("x-apple-twosv-trust-token");
    if (trust) this.session["trustToken"] = trust;
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const expires = attrs.find((attr) => attr.toLowerCase().startsWith("expires="))?.slice(8);
      this.cookies.set(pair.slice(0, eq), { value: pair.slice(eq + 1), ...(expires ? { expires } : {}) });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json: json as Record<string, unknown> };
  }

  /** signin/init + signin/complete with real SRP; returns the complete answer. */
  async signIn(accountName: string, password: string, protocols: string[] = ["s2k", "s2k_fo"]) {
    const srp = new SrpClient(accountName);
    const init = await this.request("POST", "/appleauth/auth/signin/init", {
      json: { a: srp.publicKey, accountName, protocols },
    });
    if (init.status !== 200) return init;
    const challenge = init.json as {
      salt: string;
      b: string;
      c: string;
      iteration: number;
      protocol: "s2k" | "s2k_fo";
    };
    const proof = srp.computeProof(password, challenge);
    return this.request("POST", "/appleauth/auth/signin/complete?isRememberMeEnabled=true", {
      json: {
        accountName,
        c: challenge.c,
        m1: proof.m1,
        m2: proof.m2,
        rememberMe: true,
        trustTokens: this.session["trustToken"] ? [this.session["trustToken"]] : [],
      },
    });
  }

  accountLogin(extra: Record<string, unknown> = {}) {
    return this.request("POST", "/setup/ws/1/accountLogin", {
      json: {
        accountCountryCode: "USA",
        dsWebAuthToken: this.session["sessionToken"],
        extended_login: true,
        trustToken: this.session["trustToken"] ?? "",
        ...extra,
      },
    });
  }
}
