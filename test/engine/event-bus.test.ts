import { describe, expect, it } from "vitest";
import { EventBus } from "../../src/engine/event-bus.ts";
import type { Logger } from "../../src/logger.ts";

type Events = { "a.one": [{ account: string; n: number }]; "b.two": [{ account: string }] };

describe("EventBus", () => {
  it("gives onAny listeners every event with its name, after the event's own listeners", () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    const owner = {};
    bus.on(owner, "a.one", ({ n }) => void seen.push(`own ${n}`));
    bus.onAny(owner, (...event) => void seen.push(`any ${JSON.stringify(event)}`));
    bus.emit("a.one", { account: "x", n: 1 });
    bus.emit("b.two", { account: "y" });
    expect(seen).toEqual(["own 1", 'any ["a.one",{"account":"x","n":1}]', 'any ["b.two",{"account":"y"}]']);
    bus.removeListeners(owner);
    bus.emit("a.one", { account: "x", n: 2 });
    expect(seen).toHaveLength(3);
  });

  it("logs a failing onAny listener and keeps delivering to the others", async () => {
    const errors: string[] = [];
    const log: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (message) => void errors.push(message),
      child: () => log,
    };
    const bus = new EventBus<Events>(log);
    const received: string[] = [];
    class Forwarder {}
    bus.onAny(new Forwarder(), () => {
      throw new Error("boom");
    });
    bus.onAny({}, async (name, _payload) => {
      received.push(name);
      throw new Error("later");
    });
    bus.emit("b.two", { account: "y" });
    await Promise.resolve();
    expect(received).toEqual(["b.two"]);
    expect(errors).toEqual(["event listener Forwarder/* failed", "event listener Object/* failed"]);
  });
});
