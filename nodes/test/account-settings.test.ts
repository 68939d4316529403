import { EngineError } from "icloud2mqtt/engine";
import { describe, expect, it } from "vitest";
import { AccountNodeSchema, CredentialsSchema, planAccount } from "../src/account-settings.ts";
import { accountIdFor, httpReply, toNodeError } from "../src/index.ts";
import { redLogger } from "../src/red-logger.ts";

const context = { userDir: "/data", endpoint: null };

describe("the account node's settings", () => {
  it("derive a stable, valid account id and folder from the Apple ID", () => {
    expect(accountIdFor("Jane@Example.com")).toBe(accountIdFor(" jane@example.com "));
    expect(accountIdFor("jane@example.com")).toMatch(/^jane-example-com-[0-9a-f]{6}$/);
    expect(accountIdFor("+49 170 1234567")).toMatch(/^49-170-1234567-[0-9a-f]{6}$/);
    expect(accountIdFor("a.very.long.apple.id.name@some-long-domain.example")).toMatch(/^[a-z0-9][a-z0-9_-]{0,31}$/);
    expect(accountIdFor("jane.doe@example.com")).not.toBe(accountIdFor("jane-doe@example.com"));
  });

  it("become the engine's account: typed boxes as strings, empty boxes keep the defaults", () => {
    const node = AccountNodeSchema.parse({
      id: "n1",
      findmySchedule: "10m",
      locate: "Jane's iPhone, Jane's iPad",
      homeLatitude: "48.85",
      homeLongitude: 2.35,
      homeRadius: "",
      photos: "false",
      calls: false,
      callsSchedule: "*/15 * * * *",
    });
    const plan = planAccount(node, CredentialsSchema.parse({ username: "jane@example.com", password: "pw" }), context);
    expect(plan).toEqual({
      mode: "embedded",
      accountId: accountIdFor("jane@example.com"),
      appleId: "jane@example.com",
      stateDir: `/data/icloud2mqtt/${accountIdFor("jane@example.com")}`,
      account: {
        id: accountIdFor("jane@example.com"),
        username: "jane@example.com",
        password: "pw",
        region: "international",
        endpoint: null,
        findmy: {
          enabled: true,
          schedule: "10m",
          locate: ["Jane's iPhone", "Jane's iPad"],
          family: true,
          home: { latitude: 48.85, longitude: 2.35 },
        },
        photos: { enabled: false, library: "all" },
        calls: { enabled: false, schedule: "*/15 * * * *" },
      },
    });
    expect(() => planAccount(node, CredentialsSchema.parse(undefined), context)).toThrow(/no Apple ID/);
    expect(AccountNodeSchema.safeParse({ id: "n1", homeRadius: "far" }).success).toBe(false);
  });

  it("in bridge mode name the broker, base topic and account", () => {
    const bridge = AccountNodeSchema.parse({ id: "n1", mode: "bridge", broker: "b1", baseTopic: "" });
    expect(planAccount(bridge, CredentialsSchema.parse({}), context)).toEqual({
      mode: "bridge",
      brokerId: "b1",
      baseTopic: "icloud2mqtt",
      accountId: null,
    });
    expect(() => planAccount({ ...bridge, broker: "" }, CredentialsSchema.parse({}), context)).toThrow(/broker/);
  });
});

describe("errors and logs", () => {
  it("map engine errors once: codes for Catch nodes, statuses and retry hints for the editor", () => {
    const limited = new EngineError("RATE_LIMITED", "slow down", { info: { retry_after: 29.2 } });
    const error = toNodeError(limited);
    expect(error).toMatchObject({ code: "RATE_LIMITED", retryable: true, retryAfter: 29.2 });
    expect(error.message).toBe("slow down (retry after 30 s)");
    expect(Object.hasOwn(error, "code")).toBe(true);
    expect(error.cause).toBeUndefined();
    expect(httpReply(limited)).toEqual({
      status: 429,
      headers: { "retry-after": "30" },
      body: { error: "slow down", code: "RATE_LIMITED", retry_after: 30 },
    });
    expect(httpReply(new EngineError("INVALID_CREDENTIALS", "no")).status).toBe(403);
    expect(httpReply(new EngineError("STORE_FAILED", "disk /secret/path full")).body.error).toBe("internal error");
    expect(httpReply(new Error("boom"))).toMatchObject({ status: 500, body: { code: "UNEXPECTED" } });
    expect(toNodeError(new Error("plain"))).toMatchObject({ code: "UNEXPECTED", message: "plain" });
  });

  it("never write secrets to Node-RED's log", () => {
    const lines: string[] = [];
    const log = {
      debug: (l: string) => lines.push(l),
      info: (l: string) => lines.push(l),
      warn: () => {},
      error: () => {},
    };
    const logger = redLogger(log, "icloud-account:n1").child({ account: "jane" });
    logger.info("signing in", {
      password: "hunter2",
      nested: { trustToken: "tt", cookies: ["c"] },
      code: "RATE_LIMITED",
    });
    logger.debug("step", { headers: { authorization: "Bearer x", scnt: "s" } });
    expect(lines).toEqual([
      '[icloud-account:n1] signing in {"account":"jane","password":"[redacted]","nested":{"trustToken":"[redacted]","cookies":"[redacted]"},"code":"RATE_LIMITED"}',
      '[icloud-account:n1] step {"account":"jane","headers":{"authorization":"[redacted]","scnt":"[redacted]"}}',
    ]);
  });
});
