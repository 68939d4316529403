import { FAKE_ASSET, FAKE_CALL, FAKE_JPEG, fakeAccountState } from "icloud2mqtt/testing";
import { describe, expect, it } from "vitest";
import { codeRequest, eventKind, eventMessage } from "../src/index.ts";

describe("engine events as messages", () => {
  it("gives calls their kind and photos their thumbnail", () => {
    expect(eventMessage(["call.new", { account: "jane", call: FAKE_CALL }])).toEqual({
      topic: "call.new",
      account: "jane",
      event: "missed",
      payload: FAKE_CALL,
    });
    const outgoing = { ...FAKE_CALL, direction: "outgoing" as const, missed: false, answered: true };
    expect(eventMessage(["call.new", { account: "jane", call: outgoing }])["event"]).toBe("outgoing");
    expect(eventMessage(["photo.new", { account: "jane", asset: FAKE_ASSET, thumbnail: FAKE_JPEG }])).toEqual({
      topic: "photo.new",
      account: "jane",
      event: "new_photo",
      payload: FAKE_ASSET,
      thumbnail: FAKE_JPEG,
    });
    expect(eventMessage(["sync.failed", { account: "jane", code: "NETWORK", message: "down" }])).toEqual({
      topic: "sync.failed",
      account: "jane",
      payload: { code: "NETWORK", message: "down" },
    });
  });

  it("turns events it does not know into messages by one rule (new data types)", () => {
    // A data type added to the engine later: its event is not in the engine's types yet.
    const contact = { id: "c1", data_type: "contacts.contact", name: "Ada" };
    const generic = eventMessage(["contact.new", { account: "jane", contact }] as never);
    expect(generic).toEqual({ topic: "contact.new", account: "jane", payload: contact });
    expect(eventKind("contact.new")).toBe("other");
    const withFile = eventMessage([
      "note.new",
      { account: "jane", note: { id: "n1" }, file: FAKE_JPEG, size: 3 },
    ] as never);
    expect(withFile).toEqual({
      topic: "note.new",
      account: "jane",
      payload: { note: { id: "n1" }, size: 3 },
      file: FAKE_JPEG,
    });
    expect(eventMessage(["photo.count", { account: "jane", count: 7 }])).toEqual({
      topic: "photo.count",
      account: "jane",
      payload: 7,
    });
  });

  it("sorts events into the events node's checkboxes; log lines are no events", () => {
    expect(["call.new", "photo.new", "sync.failed", "mfa.required", "account.state"].map(eventKind)).toEqual([
      "calls",
      "photos",
      "syncFailed",
      "codeNeeded",
      "accountState",
    ]);
    expect(eventKind("device.updated")).toBe("other");
    expect(eventKind("log")).toBeNull();
  });

  it("says where a code went and where else it can go", () => {
    const state = fakeAccountState("jane", { awaiting: "code" });
    const request = codeRequest(state);
    expect(request).toMatchObject({ account: "jane", awaiting: "code" });
    expect(request.trusted_phone_numbers.length).toBeGreaterThan(0);
    expect(codeRequest(fakeAccountState("jane", { awaiting: "choice" }))).toMatchObject({
      awaiting: "choice",
      choices: expect.arrayContaining([expect.any(String)]),
    });
  });
});
