import { EngineError } from "icloud2mqtt/engine";
import { describe, expect, it } from "vitest";
import { type Action, actionRequest, mfaRequest } from "../src/index.ts";

const NONE = { device: "", text: "", subject: "", sound: false, phone_number: "", passcode: "" };

function refused(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error("expected a refusal");
}

describe("the action node's input", () => {
  it("takes the node's fields, lets msg.payload replace them, and keeps only the command's fields", () => {
    const fields = { ...NONE, device: "Jane's iPhone", text: "from the node", subject: "Hi", sound: true };
    expect(actionRequest("play_sound", fields, false, { payload: 1 })).toEqual({
      action: "play_sound",
      input: { device: "Jane's iPhone", subject: "Hi" },
    });
    expect(actionRequest("send_message", fields, false, { payload: { text: "from msg", account: "other" } })).toEqual({
      action: "send_message",
      input: { device: "Jane's iPhone", text: "from msg", subject: "Hi", sound: true },
    });
    expect(actionRequest("send_message", fields, false, { payload: "a string is the text" }).input["text"]).toBe(
      "a string is the text",
    );
    expect(actionRequest("sync", fields, false, { payload: { data_types: ["fmip.devices"] } })).toEqual({
      action: "sync",
      input: { data_types: ["fmip.devices"] },
    });
    expect(actionRequest("msg", NONE, false, { topic: "reauthenticate" }).action).toBe("reauthenticate");
    expect(actionRequest("msg", NONE, false, { action: "locate", topic: "x" })).toEqual({
      action: "locate",
      input: {},
    });
  });

  it("refuses lost mode without the node's opt-in, unknown actions and invalid fields", () => {
    const lost = { action: "lost_mode", payload: { device: "Jane's iPad" } };
    expect(refused(() => actionRequest("msg", NONE, false, lost)).message).toMatch(/lost mode is not allowed/);
    expect(actionRequest("msg", NONE, true, lost)).toEqual({ action: "lost_mode", input: { device: "Jane's iPad" } });
    expect(refused(() => actionRequest("lost_mode" as Action, NONE, false, {})).code).toBe("INVALID_INPUT");
    expect(refused(() => actionRequest("msg", NONE, false, { action: "erase_device" })).message).toMatch(
      /unknown action/,
    );
    expect(refused(() => actionRequest("play_sound", NONE, false, { payload: {} })).message).toMatch(
      /^play_sound: device/,
    );
    expect(refused(() => actionRequest("locate", NONE, false, { payload: { devcie: "typo" } })).code).toBe(
      "INVALID_INPUT",
    );
  });
});

describe("the mfa node's input", () => {
  it("reads codes, resend requests and choices", () => {
    expect(mfaRequest("123 456")).toEqual({ command: "mfa", input: { code: "123456" } });
    expect(mfaRequest(654321)).toEqual({ command: "mfa", input: { code: "654321" } });
    expect(mfaRequest({ code: "1234", account: "ignored" })).toEqual({ command: "mfa", input: { code: "1234" } });
    expect(mfaRequest({ method: "sms", phone_number_id: 1 })).toEqual({
      command: "resend_mfa",
      input: { method: "sms", phone_number_id: 1 },
    });
    expect(mfaRequest({ choice: "SMS to ••58" })).toEqual({ command: "choice", input: { choice: "SMS to ••58" } });
  });

  it("refuses what is no code or request, before anything is sent", () => {
    expect(refused(() => mfaRequest("12")).code).toBe("INVALID_INPUT");
    expect(refused(() => mfaRequest({ method: "pigeon" })).message).toMatch(/^resend_mfa: method/);
    expect(refused(() => mfaRequest(null)).message).toMatch(/msg.payload must be/);
    expect(refused(() => mfaRequest(["123456"])).code).toBe("INVALID_INPUT");
  });
});
