import type { SimClock } from "./context.ts";

/** Real time plus an offset; `advance` moves the simulated time forward (tests, admin API). */
export function createSimClock(): SimClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError("clock can only move forward");
      offset += ms;
    },
  };
}
