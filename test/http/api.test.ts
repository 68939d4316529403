import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/engine/events.ts";
import { EngineError } from "../../src/errors.ts";
import { blockedState, GOOD_CODE, type Harness, startHarness, TWO_STEP_CODE, twoStepState } from "../support/http.ts";

let h: Harness;
const bodies: string[] = [];

async function call(path: string, method = "GET", headers: Record<string, string> = {}, body?: string) {
  const res = await request(h.url + path, {
    method: method as "GET",
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  bodies.push(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}
const post = (path: string) => call(path, "POST");

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  for (const text of bodies) expect(text).not.toContain(GOOD_CODE);
  bodies.length = 0;
  await h.close();
});

describe("GET /api/state and /api/accounts", () => {
  it("returns the first account's state by default and another with ?account=", async () => {
    const state = await call("api/state");
    expect(state.status).toBe(200);
    expect(state.json).toMatchObject({ account: "main", state: "ready", nextSync: 1_767_229_200_000 });
    h.engine.setState("family", blockedState("family"));
    const family = await call("api/state?account=family");
    expect(family.json).toMatchObject({
      account: "family",
      state: "blocked",
      trustedPhoneNumbers: [
        { id: 1, maskedNumber: "(•••) •••-••12" },
        { id: 2, maskedNumber: "+49 ••• •••••34" },
      ],
    });
  });

  it("answers 404 {message} for an unknown or malformed account", async () => {
    for (const account of ["nobody", "<script>", "a".repeat(100)]) {
      const res = await call(`api/state?account=${encodeURIComponent(account)}`);
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ message: expect.stringMatching(/Unknown account/) });
      expect(res.text).not.toContain("<script>");
    }
    expect((await post("api/sync?account=nobody")).status).toBe(404);
  });

  it("lists accounts with their states", async () => {
    h.engine.setState("family", blockedState("family"));
    const res = await call("api/accounts");
    expect(res.json).toEqual([
      expect.objectContaining({ id: "main", state: "ready", session: "active" }),
      expect.objectContaining({ id: "family", state: "blocked", session: "failed" }),
    ]);
    expect(res.text).not.toContain("@example.com");
  });
});

describe("GET /api/log", () => {
  const entry = (level: LogEntry["level"], message: string, account: string | null = "main"): LogEntry => ({
    account,
    level,
    time: 1000,
    source: "AccountRunner",
    message,
  });

  it("filters by level (that level and above) and keeps the original's fields", async () => {
    h.engine.logEntries = [entry("debug", "d"), entry("info", "i"), entry("warn", "w"), entry("error", "e")];
    const messages = async (q: string) =>
      ((await call(`api/log${q}`)).json as Array<{ message: string }>).map((e) => e.message);
    expect(await messages("?loglevel=debug")).toEqual(["d", "i", "w", "e"]);
    expect(await messages("?loglevel=warn")).toEqual(["w", "e"]);
    expect(await messages("?loglevel=error")).toEqual(["e"]);
    expect(await messages("")).toEqual(["i", "w", "e"]); // documented: absent = info
    expect((await call("api/log?loglevel=error")).json).toEqual([
      { level: "error", time: 1000, source: "AccountRunner", message: "e" },
    ]);
  });

  it("rejects an unknown level with 400", async () => {
    const res = await call("api/log?loglevel=verbose");
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ message: expect.any(String) });
  });
});

describe("POST /api/sync and /api/reauthenticate", () => {
  it("accept only when ready, fire and forget", async () => {
    expect(await post("api/sync")).toMatchObject({ status: 200, json: { message: "Sync requested" } });
    expect(await post("api/reauthenticate")).toMatchObject({
      status: 200,
      json: { message: "Reauthentication requested" },
    });
    expect(h.engine.executed).toEqual([
      { command: "sync", input: { account: "main" } },
      { command: "reauthenticate", input: { account: "main" } },
    ]);
  });

  it("answer 412 when running or blocked", async () => {
    for (const state of [{ ...blockedState("main"), state: "running" as const }, blockedState("main")]) {
      h.engine.setState("main", state);
      for (const path of ["api/sync", "api/reauthenticate"]) {
        expect(await post(path)).toMatchObject({
          status: 412,
          json: { message: "Cannot perform action while sync is in progress" },
        });
      }
    }
    expect(h.engine.executed).toEqual([]);
  });

  it("a failing background sync does not affect the response", async () => {
    h.engine.handler = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new EngineError("NOT_SIGNED_IN", "no session");
    };
    expect((await post("api/sync")).status).toBe(200);
  });

  it("a refusal the engine gives at once is the answer: a used-up budget is 429 with Retry-After", async () => {
    h.engine.failNext.reauthenticate = new EngineError("RATE_LIMITED", "too many re-authentication requests", {
      info: { retry_after: 412, limit: "reauthentications" },
      retryable: true,
    });
    const refused = await post("api/reauthenticate");
    expect(refused).toMatchObject({ status: 429, json: { message: "too many re-authentication requests" } });
    expect(refused.headers["retry-after"]).toBe("412");
  });
});

describe("POST /api/mfa", () => {
  it("is 412 unless blocked, checked before the format", async () => {
    for (const q of ["", "?code=12", `?code=${GOOD_CODE}`]) {
      expect(await post(`api/mfa${q}`)).toMatchObject({
        status: 412,
        json: { message: "MFA code not expected at this time." },
      });
    }
    h.engine.setState("main", { ...blockedState("main"), state: "running" });
    expect((await post(`api/mfa?code=${GOOD_CODE}`)).status).toBe(412);
    h.engine.setState("main", blockedState("main", "choice"));
    expect((await post(`api/mfa?code=${GOOD_CODE}`)).status).toBe(412);
  });

  it("wants exactly six digits", async () => {
    h.engine.setState("main", blockedState("main"));
    for (const code of ["", "12345", "1234567", "12a456", "１２３４５６", "123456 "]) {
      expect(await post(`api/mfa?code=${encodeURIComponent(code)}`)).toMatchObject({
        status: 400,
        json: { message: "Unexpected MFA code format! Expecting 6 digits" },
      });
    }
    expect(h.engine.executed).toEqual([]);
  });

  it("takes 4 to 8 digits while a legacy two-step code is awaited (the session checks the length)", async () => {
    h.engine.setState("main", twoStepState("main"));
    for (const code of ["", "123", "123456789", "12a4", "１２３４", "1234 "]) {
      expect(await post(`api/mfa?code=${encodeURIComponent(code)}`)).toMatchObject({
        status: 400,
        json: { message: "Unexpected MFA code format! Expecting 4 to 8 digits" },
      });
    }
    expect(h.engine.executed).toEqual([]);
    const wrong = await post("api/mfa?code=1111");
    expect(wrong).toMatchObject({ status: 400, json: { message: expect.stringMatching(/not accepted/) } });
    const right = await post(`api/mfa?code=${TWO_STEP_CODE}`);
    expect(right).toMatchObject({ status: 200, json: { message: "Read MFA code" } });
    expect(right.text).not.toContain(TWO_STEP_CODE);
    expect(h.engine.executed).toEqual([
      { command: "mfa", input: { account: "main", code: "1111" } },
      { command: "mfa", input: { account: "main", code: TWO_STEP_CODE } },
    ]);
    expect((await call("api/state")).json).toMatchObject({ state: "ready" });
    // the state may also name the method (the session's error info says "2sv" / "sms" ...)
    const withMethod = (method: string) => {
      const state = twoStepState("main");
      return {
        ...state,
        session: { ...state.session, error_info: Object.assign({ method }, state.session.error_info) },
      };
    };
    h.engine.setState("main", withMethod("2sv"));
    expect((await post(`api/mfa?code=${TWO_STEP_CODE}`)).status).toBe(200);
    h.engine.setState("main", withMethod("sms"));
    expect((await post(`api/mfa?code=${TWO_STEP_CODE}`)).json).toEqual({
      message: "Unexpected MFA code format! Expecting 6 digits",
    });
  });

  it("accepts the right code (200, not echoed) and reports a rejected one as 400", async () => {
    h.engine.setState("main", blockedState("main"));
    const wrong = await post("api/mfa?code=111111");
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual({ message: expect.stringMatching(/not accepted/) });
    expect(wrong.text).not.toContain("111111");
    const right = await post(`api/mfa?code=${GOOD_CODE}`);
    expect(right).toMatchObject({ status: 200, json: { message: "Read MFA code" } });
    expect((await call("api/state")).json).toMatchObject({ state: "ready" });
    expect(h.engine.executed.map((c) => c.command)).toEqual(["mfa", "mfa"]);
  });

  it("maps other engine failures once (404 unknown, 503 unavailable, 500 hides internals)", async () => {
    h.engine.setState("main", blockedState("main"));
    h.engine.failNext.mfa = new EngineError("SERVICE_UNAVAILABLE", "Apple is down", { info: { retry_after: 30 } });
    const down = await post(`api/mfa?code=${GOOD_CODE}`);
    expect(down).toMatchObject({ status: 503, json: { message: "Apple is down" } });
    expect(down.headers["retry-after"]).toBe("30");
    h.engine.failNext.mfa = new EngineError("STORE_FAILED", "EACCES /secret/path");
    expect(await post(`api/mfa?code=${GOOD_CODE}`)).toMatchObject({
      status: 500,
      json: { message: "Internal server error" },
    });
  });
});

describe("POST /api/resend_mfa", () => {
  it("is 412 unless blocked", async () => {
    expect(await post("api/resend_mfa?method=sms")).toMatchObject({
      status: 412,
      json: { message: "MFA code not expected at this time." },
    });
  });

  it("validates the method and phone number id", async () => {
    h.engine.setState("main", blockedState("main"));
    for (const q of ["", "?method=SMS", "?method=email", "?method=sms;voice"]) {
      expect(await post(`api/resend_mfa${q}`)).toMatchObject({
        status: 400,
        json: { message: "Resend method does not match expected format" },
      });
    }
    for (const id of ["0", "-1", "abc", "1.5"])
      expect((await post(`api/resend_mfa?method=sms&phoneNumberId=${id}`)).status).toBe(400);
  });

  it("requests SMS, voice and device resends", async () => {
    h.engine.setState("main", blockedState("main"));
    expect((await post("api/resend_mfa?method=sms&phoneNumberId=2")).json).toEqual({
      message: "Requesting MFA resend with method 'SMS' (Number ID: 2)",
    });
    expect((await post("api/resend_mfa?method=voice")).json).toEqual({
      message: "Requesting MFA resend with method 'Voice' (Number ID: 1)",
    });
    expect((await post("api/resend_mfa?method=device&phoneNumberId=7")).json).toEqual({
      message: "Requesting MFA resend with method 'Device'",
    });
    expect(h.engine.executed.map((c) => c.input)).toEqual([
      { account: "main", method: "sms", phone_number_id: 2 },
      { account: "main", method: "voice", phone_number_id: 1 },
      { account: "main", method: "device" },
    ]);
  });

  it("reports an engine failure", async () => {
    h.engine.setState("main", blockedState("main"));
    h.engine.failNext.resend_mfa = new EngineError("NOT_FOUND", "no trusted phone number 9");
    expect(await post("api/resend_mfa?method=sms&phoneNumberId=9")).toMatchObject({ status: 404 });
  });
});

describe("POST /api/choice", () => {
  it("is 412 unless a choice is awaited, 400 for an unknown choice, 200 otherwise", async () => {
    expect((await post("api/choice?choice=iPhone")).status).toBe(412);
    h.engine.setState("main", blockedState("main"));
    expect((await post("api/choice?choice=iPhone")).status).toBe(412);
    h.engine.setState("main", blockedState("main", "choice"));
    expect(await post("api/choice?choice=Toaster")).toMatchObject({ status: 400 });
    expect(await post("api/choice")).toMatchObject({ status: 400 });
    expect(await post("api/choice?choice=iPhone")).toMatchObject({ status: 200, json: { message: "Choice received" } });
    expect(h.engine.executed).toEqual([{ command: "choice", input: { account: "main", choice: "iPhone" } }]);
  });
});

describe("push endpoints", () => {
  const subscription = { endpoint: "https://push.example.com/abc", keys: { p256dh: "BNcR", auth: "tBHI" } };

  it("subscribe: 201 for a valid subscription, 400 otherwise", async () => {
    const json = { "content-type": "application/json" };
    expect(await call("api/subscribe", "POST", json, JSON.stringify(subscription))).toMatchObject({
      status: 201,
      json: { message: "Push subscription added successfully" },
    });
    for (const bad of [
      "",
      "{",
      "null",
      "[]",
      JSON.stringify({ endpoint: "x" }),
      JSON.stringify({ ...subscription, endpoint: "http://push.example.com/" }),
    ]) {
      expect(await call("api/subscribe", "POST", json, bad)).toMatchObject({
        status: 400,
        json: { message: "Unable to add push subscription" },
      });
    }
    expect(h.server.push?.subscriptionCount).toBe(1);
  });

  it("serves the VAPID public key", async () => {
    const first = await call("api/vapid-public-key");
    expect(first.json).toEqual({ publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{80,90}$/) });
  });
});

describe("health and unknown routes", () => {
  it("GET /api/health", async () => {
    h.engine.setState("family", blockedState("family"));
    expect((await call("api/health")).json).toEqual({
      status: "ok",
      version: "0.0.0-test",
      accounts: [
        { id: "main", state: "ready", session: "active" },
        { id: "family", state: "blocked", session: "failed" },
      ],
    });
  });

  it("404 for unknown paths, 405 with Allow for wrong methods", async () => {
    expect(await call("api/nothing")).toMatchObject({ status: 404, json: { message: "Not found" } });
    expect(await call("../../etc/passwd")).toMatchObject({ status: 404 });
    const wrong = await call("api/state", "DELETE");
    expect(wrong).toMatchObject({
      status: 405,
      json: { message: "Method (DELETE) not supported on endpoint /api/state" },
    });
    expect(wrong.headers.allow).toBe("GET");
    expect((await call("api/mfa")).status).toBe(405);
  });

  it("serves the UI pages and assets with security headers", async () => {
    for (const [path, type] of [
      ["", "text/html"],
      ["state", "text/html"],
      ["mfa", "text/html"],
      ["log", "text/html"],
      ["common.js", "text/javascript"],
      ["service-worker.js", "text/javascript"],
      ["style.css", "text/css"],
      ["manifest.webmanifest", "application/manifest+json"],
      ["icon-192.png", "image/png"],
    ] as const) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(String(res.headers["content-type"])).toContain(type);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(String(res.headers["content-security-policy"])).toMatch(/script-src 'self';.*frame-ancestors 'self'/);
    }
    expect((await call("")).text).not.toMatch(/<script>|<style>| on[a-z]+="/);
  });
});
