import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COMMAND_NAMES, COMMAND_SCHEMAS, type CommandName, DATA_TYPES } from "../../src/engine/commands.ts";
import { EngineError } from "../../src/errors.ts";
import type { Logger } from "../../src/logger.ts";
import { MqttFrontend } from "../../src/mqtt/mqtt-frontend.ts";
import { handleRequest } from "../../src/mqtt/request-handler.ts";
import {
  errorResponse,
  MAX_REQUEST_BYTES,
  okResponse,
  oversizedRequestResponse,
  parseRequest,
  ResponseSchema,
  requestSecrets,
  retainedRequestResponse,
} from "../../src/mqtt/requests.ts";
import { sleep } from "../support/harness.ts";
import {
  BROKERS,
  type FakeEngine,
  HaClient,
  json,
  mqttFakeEngine,
  SECRET_CODE,
  SECRET_PASSWORD,
  type TestBroker,
} from "../support/mqtt.ts";

const REQ = "icloud2mqtt/bridge/request";
const RES = "icloud2mqtt/bridge/response";

const VALID: Record<CommandName, Record<string, unknown>> = {
  mfa: { account: "acct1", code: SECRET_CODE },
  resend_mfa: { account: "acct1", method: "sms", phone_number_id: 1 },
  choice: { account: "acct1", choice: "sms" },
  sync: { account: "acct1", data_types: ["fmip.devices"] },
  reauthenticate: { account: "acct1" },
  locate: { account: "acct1", device: "dev-1" },
  play_sound: { account: "acct1", device: "dev-1" },
  send_message: { account: "acct1", device: "dev-1", text: "Where are you?" },
  lost_mode: { account: "acct1", device: "dev-1", passcode: "4321", text: "Lost" },
  list_devices: { account: "acct1" },
  list_photos: { account: "acct1", since: "2024-01-01T00:00:00Z", limit: 5 },
  photo_file: { account: "acct1", file: "icpl://AbC", asset: "asset-1", master_id: "master-1", zone: "PrimarySync" },
  list_calls: { account: "acct1", limit: 10 },
  list_contacts: { account: "acct1", limit: 10 },
  contact_image: { account: "acct1", file: "mme_contact_image://0123456789abcdef" },
  list_events: { account: "acct1", from: "2026-12-01", to: "2026-12-07" },
  list_notes: { account: "acct1", folder: "Recipes", limit: 20 },
  note_attachment: { account: "acct1", file: "mme_notes_attachment://ATT-1" },
};

describe("parseRequest", () => {
  const parse = (command: string, payload: string) => parseRequest(command, Buffer.from(payload));

  it("takes the transaction out before the schema and keeps it", () => {
    const result = parse("sync", '{"account":"a","transaction":"t1"}');
    expect(result).toEqual({ ok: true, command: "sync", input: { account: "a" }, transaction: "t1" });
  });

  it("reads an empty payload as {} and bare digits as an MFA code", () => {
    expect(parse("reauthenticate", "")).toMatchObject({ ok: true, input: {} });
    expect(parse("mfa", " 012345\n")).toMatchObject({ ok: true, input: { code: "012345" } });
  });

  it("takes 4 to 8 digit codes (legacy two-step codes are 4 digits; the session checks the length)", () => {
    for (const code of ["0123", "12345678"]) {
      expect(parse("mfa", code)).toMatchObject({ ok: true, input: { code } });
      expect(parse("mfa", JSON.stringify({ code }))).toMatchObject({ ok: true, input: { code } });
      expect(COMMAND_SCHEMAS.mfa.safeParse({ code }).success).toBe(true);
    }
    for (const code of ["123", "123456789", "12a4", "abcd", "", "１２３４"]) {
      expect(parse("mfa", JSON.stringify({ code })).ok).toBe(false);
      expect(COMMAND_SCHEMAS.mfa.safeParse({ code }).success).toBe(false);
    }
    expect(parse("mfa", "abcd").ok).toBe(false);
  });

  it.each([
    ["mfa", "{not json", /invalid JSON/],
    ["mfa", "[1,2]", /must be a JSON object/],
    ["mfa", "123", /code: code must be 4 to 8 digits/],
    ["mfa", "123456789", /code: code must be 4 to 8 digits/],
    ["mfa", '{"code":"12345a"}', /code: code must be 4 to 8 digits/],
    ["play_sound", '{"account":"a"}', /'play_sound' request: device: /],
    ["sync", '{"dat_types":["fmip.devices"]}', /Unrecognized key.*dat_types/],
    ["reboot", "{}", /unknown command 'reboot'/],
    ["sync", '{"transaction":{"x":1}}', /transaction/],
  ])("rejects %s %s", (command, payload, message) => {
    const result = parse(command, payload);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("INVALID_INPUT");
      expect(result.error.message).toMatch(message);
      expect(result.error.message).not.toContain("12345");
    }
  });
});

describe("parseRequest: exact answers", () => {
  const parse = (command: string, payload: string) => parseRequest(command, Buffer.from(payload));
  const message = (command: string, payload: string) => {
    const result = parse(command, payload);
    return result.ok ? "accepted" : result.error.message;
  };

  it("adds no transaction key when none was sent", () => {
    expect(Object.keys(parse("sync", "{}"))).toEqual(["ok", "command", "input"]);
    expect(Object.keys(parse("reboot", "{}"))).toEqual(["ok", "error"]);
  });

  it("names every issue with its path, joined by '; '; a root-level issue has no path prefix", () => {
    expect(message("sync", '{"data_types":["nope"],"account":5}')).toBe(
      "invalid 'sync' request: account: Invalid input: expected string, received number; " +
        `data_types.0: Invalid option: expected one of ${DATA_TYPES.map((t) => JSON.stringify(t)).join("|")}`,
    );
    expect(message("sync", '{"dat_types":["fmip.devices"]}')).toBe(
      "invalid 'sync' request: Unrecognized key: \"dat_types\"",
    );
    // Every command, in the registry's order (test/engine/services/registry.test.ts pins that list).
    expect(message("reboot", "{}")).toBe(`unknown command 'reboot' (known: ${COMMAND_NAMES.join(", ")})`);
  });

  it("reads bare digits as a code only for mfa, and only when the payload is nothing but digits", () => {
    expect(message("sync", "1234")).toBe("the 'sync' request payload must be a JSON object");
    expect(message("mfa", "x1234")).toBe("invalid JSON in the 'mfa' request payload");
    expect(message("mfa", "1234x")).toBe("invalid JSON in the 'mfa' request payload");
  });

  it("takes a transaction of up to 200 characters or a number, nothing else", () => {
    expect(parse("sync", JSON.stringify({ transaction: "t".repeat(200) }))).toMatchObject({
      ok: true,
      transaction: "t".repeat(200),
    });
    expect(parse("sync", '{"transaction":0}')).toMatchObject({ ok: true, transaction: 0 });
    for (const transaction of ["t".repeat(201), true, null, [1], { id: 1 }]) {
      expect(message("sync", JSON.stringify({ transaction }))).toBe("transaction: must be a string or a number");
    }
  });
});

describe("requestSecrets", () => {
  it("lists the code and passcode of 4 characters or more, nothing else", () => {
    expect(requestSecrets({ account: "acct1", code: "123456", passcode: "4321", text: "secret text" })).toEqual([
      "123456",
      "4321",
    ]);
    expect(requestSecrets({ code: "123", passcode: 4321 })).toEqual([]);
    for (const input of [null, undefined, "123456", 123456]) expect(requestSecrets(input)).toEqual([]);
  });
});

describe("handleRequest", () => {
  function recorder() {
    const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const log: Logger = {
      debug: (m, c) => void lines.push(["debug", m, c]),
      info: (m, c) => void lines.push(["info", m, c]),
      warn: (m, c) => void lines.push(["warn", m, c]),
      error: (m, c) => void lines.push(["error", m, c]),
      child: () => log,
    };
    return { lines, log };
  }

  it("logs what it did (command, account, error code), never the payload", async () => {
    const engine = mqttFakeEngine();
    const { lines, log } = recorder();
    const payload = (input: unknown) => Buffer.from(JSON.stringify(input));

    expect(await handleRequest(engine, "sync", payload({ account: "acct1" }), log)).toEqual({
      status: "ok",
      data: { accepted: "sync" },
    });
    expect(await handleRequest(engine, "play_sound", payload({ account: "acct1" }), log)).toMatchObject({
      status: "error",
    });
    engine.handler = async (_command, input) => {
      throw new EngineError("NOT_FOUND", `no device; passcode ${(input as { passcode: string }).passcode}`);
    };
    const lost = { account: "acct1", device: "dev-1", passcode: "482913", text: "Lost" };
    expect(await handleRequest(engine, "lost_mode", payload(lost), log)).toEqual({
      status: "error",
      data: { code: "NOT_FOUND", retryable: false, info: {} },
      error: "no device; passcode [redacted]",
    });
    expect(lines).toEqual([
      ["info", "MQTT request", { command: "sync", account: "acct1" }],
      ["warn", "rejected MQTT request", { command: "play_sound", error: expect.stringContaining("device:") }],
      ["info", "MQTT request", { command: "lost_mode", account: "acct1" }],
      ["warn", "MQTT request failed", { command: "lost_mode", code: "NOT_FOUND" }],
    ]);
    expect(JSON.stringify(lines)).not.toContain("482913");
  });
});

describe("refusals without running the request", () => {
  /** `{"account":"acct1",...}` padded with spaces to exactly `bytes` bytes. */
  const padded = (bytes: number, body: Record<string, unknown> = { account: "acct1" }) => {
    const text = JSON.stringify(body);
    return Buffer.from(text + " ".repeat(bytes - text.length));
  };
  const RETAINED =
    "the 'sync' request was published with the retain flag and is not executed (a retained request would run again on every reconnect); it was removed from the broker: publish it without retain";

  it("handleRequest runs a payload of exactly MAX_REQUEST_BYTES and refuses one byte more, undecoded", async () => {
    const engine = mqttFakeEngine();
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const log: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m, c) => void lines.push([m, c]),
      error: () => undefined,
      child: () => log,
    };
    expect(MAX_REQUEST_BYTES).toBe(16_384);
    expect(await handleRequest(engine, "sync", padded(MAX_REQUEST_BYTES), log)).toEqual({
      status: "ok",
      data: { accepted: "sync" },
    });
    expect(
      await handleRequest(engine, "sync", padded(MAX_REQUEST_BYTES + 1, { account: "acct1", transaction: "t1" }), log),
    ).toEqual({
      status: "error",
      data: { code: "INVALID_INPUT", retryable: false, info: {} },
      error: "the 'sync' request payload has 16385 bytes; requests may have at most 16384",
    });
    expect(engine.executed).toEqual([{ command: "sync", input: { account: "acct1" } }]);
    expect(lines).toEqual([["rejected an oversized MQTT request", { command: "sync", bytes: 16_385 }]]);
  });

  it("oversizedRequestResponse names the command, the size and the limit", () => {
    expect(oversizedRequestResponse("locate", 20_000)).toEqual({
      status: "error",
      data: { code: "INVALID_INPUT", retryable: false, info: {} },
      error: "the 'locate' request payload has 20000 bytes; requests may have at most 16384",
    });
  });

  it("retainedRequestResponse explains the refusal and echoes the transaction of a payload it may decode", () => {
    const refusal = { status: "error", data: { code: "INVALID_INPUT", retryable: false, info: {} }, error: RETAINED };
    expect(retainedRequestResponse("sync", Buffer.from('{"account":"acct1","transaction":"t1"}'))).toEqual({
      ...refusal,
      transaction: "t1",
    });
    expect(retainedRequestResponse("sync", padded(MAX_REQUEST_BYTES, { transaction: 7 }))).toEqual({
      ...refusal,
      transaction: 7,
    });
    // Over the limit the payload is not decoded: no transaction, even if it holds one.
    expect(retainedRequestResponse("sync", padded(MAX_REQUEST_BYTES + 1, { transaction: "t2" }))).toEqual(refusal);
    expect(retainedRequestResponse("sync", Buffer.from(""))).toEqual(refusal);
  });
});

describe("ResponseSchema (responses read back by a remote engine)", () => {
  it("reads back every response this bridge publishes, unchanged", () => {
    const responses = [
      okResponse({ devices: [] }, "tx-1"),
      okResponse(undefined),
      errorResponse(new EngineError("NOT_FOUND", "no device", { info: { device: "x" } }), 3),
      errorResponse(new EngineError("RATE_LIMITED", "slow down")),
    ];
    for (const response of responses) expect(ResponseSchema.parse(response)).toEqual(response);
  });

  it("refuses answers of another shape", () => {
    const error = errorResponse(new EngineError("NOT_FOUND", "no device"));
    for (const wrong of [
      { status: "done", data: {} },
      { status: "", data: {} },
      { ...error, data: { code: "NOT_FOUND", retryable: "no", info: {} } },
      { ...error, data: { code: 404, retryable: false, info: {} } },
      { ...error, data: { code: "NOT_FOUND", retryable: false } },
      { ...error, error: undefined },
      { status: "ok", data: 1, transaction: { id: 1 } },
    ]) {
      expect(ResponseSchema.safeParse(wrong).success, JSON.stringify(wrong)).toBe(false);
    }
  });
});

for (const spec of BROKERS) {
  describe.skipIf(spec.skip)(`MQTT requests against ${spec.name}`, () => {
    let broker: TestBroker;
    let engine: FakeEngine;
    let bridge: MqttFrontend;
    let ha: HaClient;
    const logLines: string[] = [];
    const logger: Logger = {
      debug: (m, c) => logLines.push(`${m} ${JSON.stringify(c)}`),
      info: (m, c) => logLines.push(`${m} ${JSON.stringify(c)}`),
      warn: (m, c) => logLines.push(`${m} ${JSON.stringify(c)}`),
      error: (m, c) => logLines.push(`${m} ${JSON.stringify(c)}`),
      child: () => logger,
    };

    beforeAll(async () => {
      broker = await spec.start();
      engine = mqttFakeEngine();
      ha = await HaClient.connect(broker.url);
      bridge = new MqttFrontend({
        api: engine,
        logger,
        options: {
          url: broker.url,
          username: "bridge",
          password: SECRET_PASSWORD,
          republishDelayMs: 50,
          staleSweepMs: 100,
        },
      });
      await bridge.start();
      await ha.waitFor((m) => m.topic === "icloud2mqtt/bridge/state");
    });
    afterAll(async () => {
      await bridge.stop();
      await ha.close();
      await broker.close();
    });
    afterEach(() => {
      engine.handler = async (command) => ({ accepted: command });
    });

    async function request(command: string, payload: string): Promise<unknown> {
      const mark = ha.messages.length;
      await ha.publish(`${REQ}/${command}`, payload);
      return json(await ha.waitFor((m) => m.topic === `${RES}/${command}`, 5_000, mark));
    }

    it.each(COMMAND_NAMES)(
      "%s: ok response with the transaction echoed, input passed to the engine",
      async (command) => {
        const before = engine.executed.length;
        const response = await request(command, JSON.stringify({ ...VALID[command], transaction: `tx-${command}` }));
        expect(response).toEqual({ status: "ok", data: { accepted: command }, transaction: `tx-${command}` });
        expect(engine.executed.slice(before)).toEqual([{ command, input: VALID[command] }]);
      },
    );

    it("answers without a transaction when none was sent; numeric transactions are echoed", async () => {
      expect(await request("sync", "")).toEqual({ status: "ok", data: { accepted: "sync" } });
      expect(await request("sync", '{"transaction":7}')).toMatchObject({ transaction: 7 });
    });

    it.each([
      ["mfa", "{oops", "invalid JSON in the 'mfa' request payload", undefined],
      ["launch_rocket", '{"transaction":"t9"}', "unknown command 'launch_rocket'", "t9"],
      ["play_sound", '{"account":"acct1","transaction":"t2"}', "invalid 'play_sound' request: device:", "t2"],
      ["mfa", '{"account":"acct1","code":"123456789","transaction":"t3"}', "code: code must be 4 to 8 digits", "t3"],
      ["mfa", "123", "code: code must be 4 to 8 digits", undefined],
    ])("%s %s → error response, engine not called", async (command, payload, message, transaction) => {
      const before = engine.executed.length;
      const response = (await request(command, payload)) as Record<string, unknown>;
      expect(response).toMatchObject({ status: "error", data: { code: "INVALID_INPUT", retryable: false, info: {} } });
      expect(response["error"]).toContain(message);
      expect(response["transaction"]).toBe(transaction);
      expect(engine.executed.length).toBe(before);
    });

    it("maps an engine EngineError to an error response with its code, never echoing the MFA code", async () => {
      engine.handler = async (_command, input) => {
        const code = (input as { code: string }).code;
        throw new EngineError("CODE_INVALID", `Apple rejected code ${code}`, { info: { attempts_left: 2 } });
      };
      const response = await request("mfa", JSON.stringify({ account: "acct1", code: SECRET_CODE, transaction: "t" }));
      expect(response).toEqual({
        status: "error",
        data: { code: "CODE_INVALID", retryable: false, info: { attempts_left: 2 } },
        error: "Apple rejected code [redacted]",
        transaction: "t",
      });
      engine.handler = async () => {
        throw new Error("boom");
      };
      expect(await request("sync", "{}")).toMatchObject({
        status: "error",
        error: "boom",
        data: { code: "UNEXPECTED_RESPONSE" },
      });
    });

    it("accepts the bare code the HA text entity would send without a template", async () => {
      const before = engine.executed.length;
      expect(await request("mfa", SECRET_CODE)).toMatchObject({ status: "ok" });
      expect(engine.executed.slice(before)).toEqual([{ command: "mfa", input: { code: SECRET_CODE } }]);
    });

    it("empties the code entity's state after a code was submitted (never retained: the code is not HA's state)", async () => {
      const mark = ha.messages.length;
      await request("mfa", JSON.stringify({ account: "acct1", code: SECRET_CODE }));
      const cleared = await ha.waitFor((m) => m.topic === "icloud2mqtt/acct1/mfa_code", 5_000, mark);
      expect(cleared.payload.length).toBe(0);
      expect(cleared.retain).toBe(false);
      const config = json(ha.last("homeassistant/device/icloud2mqtt_account_acct1/config")) as {
        cmps: { mfa_code: Record<string, unknown> };
      };
      expect(config.cmps.mfa_code).toMatchObject({
        state_topic: "icloud2mqtt/acct1/mfa_code",
        min: 0,
        pattern: "^(\\d{4,8})?$",
        mode: "password",
        retain: false,
      });
    });

    it("publishes the account discovery exactly as the golden file", async () => {
      const config = ha.last("homeassistant/device/icloud2mqtt_account_acct1/config");
      const golden = JSON.parse(
        readFileSync(new URL("../golden/mqtt/account-all-services.json", import.meta.url), "utf8"),
      );
      expect(json(config)).toEqual(golden);
      expect(config?.retain).toBe(false); // live delivery; retained copy checked in the bridge tests
    });

    it("never publishes or logs the MFA code or the broker password", async () => {
      await request("mfa", JSON.stringify({ code: SECRET_CODE }));
      await sleep(100);
      const published = ha.messages.filter((m) => !m.topic.startsWith(`${REQ}/`));
      expect(published.length).toBeGreaterThan(10);
      for (const m of published) {
        const text = m.payload.toString("latin1");
        expect(text).not.toContain(SECRET_CODE);
        expect(text).not.toContain(SECRET_PASSWORD);
      }
      expect(logLines.length).toBeGreaterThan(0);
      for (const line of logLines) {
        expect(line).not.toContain(SECRET_CODE);
        expect(line).not.toContain(SECRET_PASSWORD);
      }
      expect(engine.executed.some((e) => JSON.stringify(e.input).includes(SECRET_CODE))).toBe(true);
    });
  });
}
