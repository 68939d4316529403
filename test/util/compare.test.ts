import { describe, expect, it } from "vitest";
import { byCodeUnits } from "../../src/util/compare.ts";

describe("byCodeUnits", () => {
  it("orders by UTF-16 code units: a total order, the same as the default sort", () => {
    const keys = [
      "b",
      "a",
      "B",
      "_x",
      "1",
      "a1",
      "a_1",
      "a10",
      "a2",
      "",
      "é",
      "z",
      "😀",
      "Z",
      "2027-03-29T09:00:00Z",
      "2027-03-29T08:59:59Z",
    ];
    expect([...keys].sort(byCodeUnits)).toEqual([...keys].sort());
    for (const a of keys) {
      expect(byCodeUnits(a, a)).toBe(0);
      for (const b of keys) if (a !== b) expect(Math.sign(byCodeUnits(a, b))).toBe(-Math.sign(byCodeUnits(b, a)));
    }
  });
});
