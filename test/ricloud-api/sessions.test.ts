import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";
import { type RicloudClient, ricloudHarness, untilBlocked } from "../support/ricloud.ts";

afterEach(cleanUp);

const AWAIT = { "Ricloud-Await": "10" };

async function userOf(client: RicloudClient): Promise<string> {
  return (await client.request("POST", "/users", { body: { identifier: "sessions-user" } })).json.id;
}

/** Creates a session attempt and answers it once settled. */
async function attempt(client: RicloudClient, identifier: string, payload: Record<string, unknown>, user = "1") {
  const answer = await client.request("POST", "/sessions", {
    body: { source: { user, type: "icloud.account", identifier }, payload },
    headers: AWAIT,
  });
  expect(answer.status).toBe(201);
  return answer.json.state === "pending" ? (await client.settle(`/sessions/${answer.json.id}`)).json : answer.json;
}

describe("ricloud API: sessions", () => {
  it("a two-step account: choice-required with the choices, choice-invalid, code-required, then active", async () => {
    const account: TestAccount = { appleId: "twostep@example.com", password: "two-step-pw", code: "4321" };
    const { engine, client } = await ricloudHarness({
      account,
      id: "twostep",
      dirPrefix: "i2m-ricloud-2sv-",
      spec: {
        mfa: {
          kind: "2sv",
          code: "4321",
          devices_2sv: [
            { device_id: "1", device_type: "SMS", phone_number: "•••-••21", area_code: "+1" },
            { device_id: "2", device_type: "SMS", phone_number: "•••-••42", area_code: "+1" },
          ],
        },
      },
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
    });
    await userOf(client);
    await untilBlocked(engine, "twostep");
    const choose = await attempt(client, account.appleId, { password: account.password });
    expect(choose).toMatchObject({ state: "failed", error: "choice-required" });
    const choices: string[] = choose.error_info.choices;
    expect(choices).toEqual(engine.snapshot("twostep").state.session.error_info?.choices);
    expect(choices).toHaveLength(2);

    expect(
      await attempt(client, account.appleId, { password: account.password, choice: "nobody's phone" }),
    ).toMatchObject({ state: "failed", error: "choice-invalid", error_info: { choices } });
    // A code before any choice was made is not accepted either.
    expect(await attempt(client, account.appleId, { password: account.password, code: "4321" })).toMatchObject({
      error: "choice-required",
    });
    const chosen = choices[1] ?? "";
    expect(await attempt(client, account.appleId, { password: account.password, choice: chosen })).toMatchObject({
      state: "failed",
      error: "code-required",
      error_info: null,
    });
    expect(await attempt(client, account.appleId, { password: account.password, code: "4321" })).toMatchObject({
      state: "active",
      error: null,
    });
    expect(engine.snapshot("twostep").state.session.state).toBe("active");
  });

  it("a wrong password fails with invalid-credentials without asking Apple; a wrong code is code-invalid", async () => {
    const account: TestAccount = { appleId: "wrongpw@example.com", password: "the-right-password", code: "112233" };
    const { engine, client, sim } = await ricloudHarness({
      account,
      id: "wrong",
      dirPrefix: "i2m-ricloud-wrongpw-",
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
    });
    await userOf(client);
    await untilBlocked(engine, "wrong");
    const signIns = () => sim.requests().filter((r) => r.route === "idmsa.signin.init").length;
    expect(signIns()).toBe(1);
    expect(await attempt(client, account.appleId, { password: "not the password", code: account.code })).toMatchObject({
      state: "failed",
      error: "invalid-credentials",
    });
    expect(engine.snapshot("wrong").state.state).toBe("blocked");
    expect(await attempt(client, account.appleId, { password: account.password, code: "000000" })).toMatchObject({
      state: "failed",
      error: "code-invalid",
    });
    expect(await attempt(client, account.appleId, { password: account.password, code: account.code })).toMatchObject({
      state: "active",
    });
    // The same Apple ID in other sessions: no second sign-in, the engine's session is used.
    expect(await attempt(client, account.appleId.toUpperCase(), { password: account.password })).toMatchObject({
      state: "active",
    });
    expect(signIns()).toBe(1);
    const sessions = await client.request("GET", "/sessions?state=active");
    expect(sessions.json.data).toHaveLength(2);
    expect((await client.request("GET", "/sources")).json.data).toHaveLength(1);
  });

  it("an account whose configured password Apple refuses: invalid-credentials, never retried", async () => {
    const account: TestAccount = { appleId: "refused@example.com", password: "apple-knows-this", code: "998877" };
    const { engine, client, sim } = await ricloudHarness({
      account,
      id: "refused",
      dirPrefix: "i2m-ricloud-refused-",
      settings: {
        password: "an-old-password",
        findmy: { enabled: false },
        photos: { enabled: false },
        calls: { enabled: false },
      },
      configuredPassword: "an-old-password",
    });
    await userOf(client);
    await until(() => engine.snapshot("refused").state.prevError?.code === "invalid-credentials", "the refusal");
    const signIns = () => sim.requests().filter((r) => r.route === "idmsa.signin.complete").length;
    const before = signIns();
    expect(await attempt(client, account.appleId, { password: "an-old-password" })).toMatchObject({
      state: "failed",
      error: "invalid-credentials",
    });
    expect(signIns()).toBe(before);
  });

  it("refuses an Apple ID the bridge does not run, and bodies that are not sessions", async () => {
    const account: TestAccount = { appleId: "only@example.com", password: "only-password", code: "121212" };
    const { client, engine } = await ricloudHarness({
      account,
      id: "only",
      dirPrefix: "i2m-ricloud-unknown-",
      settings: { findmy: { enabled: false }, photos: { enabled: false }, calls: { enabled: false } },
    });
    await userOf(client);
    await untilBlocked(engine, "only");
    const unknown = await client.request("POST", "/sessions", {
      body: {
        source: { user: "1", type: "icloud.account", identifier: "stranger@example.com" },
        payload: { password: "x" },
      },
    });
    expect(unknown.status).toBe(403);
    expect(unknown.json).toEqual({
      error: "source-not-configured",
      message: expect.stringContaining("accounts:"),
      params: { "source.identifier": "not an account of this icloud2mqtt" },
    });
    const noPassword = await client.request("POST", "/sessions", {
      body: { source: { user: "1", type: "icloud.account", identifier: account.appleId }, payload: {} },
    });
    expect(noPassword.status).toBe(400);
    expect(noPassword.json).toMatchObject({
      error: "invalid-parameter",
      params: { "payload.password": expect.any(String) },
    });
    const noUser = await client.request("POST", "/sessions", {
      body: { source: { user: "99", type: "icloud.account", identifier: account.appleId }, payload: { password: "p" } },
    });
    expect(noUser.json).toMatchObject({ error: "invalid-parameter", params: { "source.user": "no such user" } });
    const rirelay = await client.request("POST", "/sessions", {
      body: { source: { user: "1", type: "rirelay.instance", identifier: "x" }, payload: { password: "p", code: "1" } },
    });
    expect(rirelay.json.params).toHaveProperty(["source.type"]);
    // Passwords never come back, not even in error messages.
    expect(JSON.stringify([unknown.json, noPassword.json, noUser.json])).not.toContain(account.password);
  });

  it("active sessions expire (with a session.expired event) when the bridge's session needs a code again", async () => {
    const account: TestAccount = { appleId: "expire@example.com", password: "expire-password", code: "445566" };
    const { engine, client, sim } = await ricloudHarness({
      account,
      id: "expire",
      dirPrefix: "i2m-ricloud-expire-",
      spec: {
        lifetimes: { trust_token: "1h", web_session: "1h", validate_token: "1h", session_token: "1h" },
        calls: { generate: { count: 2, seed: 4 } },
      },
      settings: { findmy: { enabled: false }, photos: { enabled: false } },
    });
    await userOf(client);
    await untilBlocked(engine, "expire");
    const active = await attempt(client, account.appleId, { password: account.password, code: account.code });
    expect(active.state).toBe("active");
    await until(() => engine.snapshot("expire").state.services.calls.last_sync !== null, "the first sync");
    // The next sync finds the web session and the trust gone: signing in again needs a new code.
    sim.clock.advance(2 * 3_600_000);
    await engine.execute("sync", { account: "expire" }).catch(() => undefined);
    await untilBlocked(engine, "expire");
    const expired = (await client.request("GET", `/sessions/${active.id}`)).json;
    expect(expired).toMatchObject({ state: "expired", error: "code-required", date_expired: expect.any(String) });
    const events = await client.request("GET", "/events?type=session&action=expired");
    expect(events.json.data).toHaveLength(1);
    expect(events.json.data[0]).toMatchObject({
      resource: "event",
      type: "session",
      action: "expired",
      data: { id: active.id, resource: "session", state: "expired" },
      webhook_config: null,
    });
    const poll = await client.request("POST", "/polls", {
      body: { session: active.id, payload: { info_types: ["*"] } },
    });
    expect(poll.status).toBe(400);
    expect(poll.json.error).toBe("session-expired");
    // The ricloud way back: a new session with the new code.
    expect(await attempt(client, account.appleId, { password: account.password, code: account.code })).toMatchObject({
      state: "active",
    });
  });
});
