import { describe, expect, it } from "vitest";
import { cleanName, HAP_NAME_PATTERN } from "../src/names.ts";

describe("cleanName", () => {
  it("turns Find My names into names HAP-NodeJS 2 accepts", () => {
    const cases: Record<string, string> = {
      "Jane's iPhone": "Jane's iPhone",
      "Jane’s MacBook Pro": "Jane’s MacBook Pro",
      "🔑 Keys (AirTag)": "Keys AirTag",
      "iPad  Pro  ": "iPad Pro",
      "Bob+Alice@home": "Bob Alice home",
      "...Watch!": "Watch",
      X: "X device",
      "🎧": "Device",
      "": "Device",
    };
    for (const [input, expected] of Object.entries(cases)) {
      expect(cleanName(input), input).toBe(expected);
      expect(HAP_NAME_PATTERN.test(cleanName(input)), input).toBe(true);
    }
    expect(cleanName("a".repeat(100))).toHaveLength(64);
  });
});
