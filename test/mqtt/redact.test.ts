import { describe, expect, it } from "vitest";
import { maskUsername, safeUrl, scrub } from "../../src/mqtt/redact.ts";

describe("MQTT redaction", () => {
  it("masks an Apple ID: e-mail keeps its first letter and domain, a phone number its ends", () => {
    expect(maskUsername("jane.doe@example.com")).toBe("j***@example.com");
    expect(maskUsername("j@example.com")).toBe("j***@example.com");
    expect(maskUsername("+4915112345678")).toBe("+4***78");
    expect(maskUsername("12345")).toBe("12***45");
    expect(maskUsername("1234")).toBe("***");
    expect(maskUsername("")).toBe("***");
    // An @ in first place is no e-mail address: masked like a phone number.
    expect(maskUsername("@example.com")).toBe("@e***om");
  });

  it("scrubs every occurrence of every secret of 4 characters or more", () => {
    expect(scrub("code 123456 refused; 123456 again", ["123456"])).toBe("code [redacted] refused; [redacted] again");
    expect(scrub("pin 1234 and code 987654", ["1234", "987654"])).toBe("pin [redacted] and code [redacted]");
    expect(scrub("pin 123 stays", ["123"])).toBe("pin 123 stays");
    expect(scrub("nothing here", [])).toBe("nothing here");
    expect(scrub("", ["secret"])).toBe("");
  });

  it("drops user and password from a broker URL, and never echoes an unparseable one", () => {
    expect(safeUrl("mqtt://user:secret@broker:1883")).toBe("mqtt://broker:1883");
    expect(safeUrl("mqtts://only-user@broker.local/")).toBe("mqtts://broker.local/");
    expect(safeUrl("mqtt://broker:1883")).toBe("mqtt://broker:1883");
    expect(safeUrl("not a url with pw:secret")).toBe("<unparseable url>");
  });
});
