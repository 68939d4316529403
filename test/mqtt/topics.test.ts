import { describe, expect, it } from "vitest";
import { maskUsername, safeUrl } from "../../src/mqtt/redact.ts";
import { objectSlug, Topics, topicKey } from "../../src/mqtt/topics.ts";

describe("topic keys", () => {
  it("keeps simple lowercase ids as they are", () => {
    expect(topicKey("dev-1")).toBe("dev-1");
    expect(topicKey("acct1")).toBe("acct1");
  });

  it("slugs and hashes ids that would lose information, stably and without + # /", () => {
    const key = topicKey("AbC+dEf/123==");
    expect(key).toMatch(/^abc_def_123_[0-9a-f]{8}$/);
    expect(topicKey("AbC+dEf/123==")).toBe(key);
    expect(topicKey("abc+def/123==")).not.toBe(key);
    const long = topicKey("x".repeat(200));
    expect(long.length).toBeLessThanOrEqual(32);
    expect(topicKey("+/#")).toMatch(/^[0-9a-f]{8}$/);
  });

  it("builds entity object ids the way HA slugifies names", () => {
    expect(objectSlug("Café Mac")).toBe("cafe_mac");
    expect(objectSlug("!!!")).toBe("unnamed");
    expect(objectSlug("!!!", "dev_1")).toBe("dev_1");
  });

  it("parses request topics", () => {
    const topics = new Topics("home/icloud/", "homeassistant");
    expect(topics.commandOf("home/icloud/bridge/request/mfa")).toBe("mfa");
    expect(topics.commandOf("home/icloud/bridge/request/a/b")).toBeUndefined();
    expect(topics.idPrefix).toBe("home_icloud");
  });
});

describe("redaction", () => {
  it("masks Apple IDs and strips URL credentials", () => {
    expect(maskUsername("jane.doe@example.com")).toBe("j***@example.com");
    expect(maskUsername("+4915112345678")).toBe("+4***78");
    expect(safeUrl("mqtt://user:secret@broker:1883")).toBe("mqtt://broker:1883");
  });
});
