import { describe, expect, it } from "vitest";
import type { MirrorProgress } from "../../../../src/engine/services/photos/mirror.ts";
import { groupDigits, progressMessage } from "../../../../src/engine/services/photos/progress.ts";

describe("photo library progress", () => {
  it("groups digits as Intl.NumberFormat('en-US') does for whole numbers", () => {
    const intl = new Intl.NumberFormat("en-US");
    const values: number[] = [
      0, 7, 99, 999, 1000, 12_345, 999_999, 1_000_000, 123_456_789, 9_007_199_254_740_991, -1, -1234, -1_000_000,
    ];
    for (let n = 1; n < 1e15; n = n * 7 + 3) values.push(n);
    expect(values.map(groupDigits)).toEqual(values.map((n) => intl.format(n)));
  });

  it("writes the whole progress message with grouped counts", () => {
    expect(
      progressMessage({
        state: "running",
        items_done: 1234,
        items_total: 100_000,
        percent: 1.2,
        files: 1500,
        bytes: 2_500_000_000,
        failed: 1001,
        eta_seconds: 4 * 3600 + 5 * 60,
      } satisfies MirrorProgress),
    ).toBe(
      "Downloading the photo library: 1,234 of 100,000 (1.2%), 1,500 files, 2.5 GB, 1,001 failed, about 4 h 5 min left",
    );
  });
});
