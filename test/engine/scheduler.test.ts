import { afterEach, describe, expect, it } from "vitest";
import { Scheduler } from "../../src/engine/scheduler.ts";
import type { Logger } from "../../src/logger.ts";

interface Line {
  level: string;
  msg: string;
}

function recorder(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const log = {
    lines,
    debug: (msg: string) => void lines.push({ level: "debug", msg }),
    info: (msg: string) => void lines.push({ level: "info", msg }),
    warn: (msg: string) => void lines.push({ level: "warn", msg }),
    error: (msg: string) => void lines.push({ level: "error", msg }),
    child: () => log,
  };
  return log;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

/** A job body the test releases by hand; counts runs and concurrent runs. */
function gate() {
  const g = {
    runs: 0,
    active: 0,
    maxActive: 0,
    release: () => {},
    run: async () => {
      g.runs += 1;
      g.active += 1;
      g.maxActive = Math.max(g.maxActive, g.active);
      await new Promise<void>((resolve) => {
        g.release = resolve;
      });
      g.active -= 1;
    },
  };
  return g;
}

const schedulers: Scheduler[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
});

function make(log: Logger = recorder()): Scheduler {
  const s = new Scheduler(log);
  schedulers.push(s);
  return s;
}

describe("Scheduler", () => {
  it("runs interval jobs repeatedly and reports the next run", async () => {
    const s = make();
    let runs = 0;
    const before = Date.now();
    s.add("a/findmy", { kind: "interval", ms: 30 }, async () => {
      runs += 1;
    });
    const next = s.nextRun("a/findmy");
    expect(next).not.toBeNull();
    expect(next ?? 0).toBeGreaterThanOrEqual(before + 30);
    await until(() => runs >= 3);
    expect(s.nextRunOf("a/")).not.toBeNull();
    expect(s.nextRunOf("b/")).toBeNull();
  });

  it("runNow runs an interval job at once, and a failing job keeps its schedule", async () => {
    const log = recorder();
    const s = make(log);
    let runs = 0;
    s.add(
      "a/calls",
      { kind: "interval", ms: 40 },
      async () => {
        runs += 1;
        throw new Error("boom");
      },
      { runNow: true },
    );
    await until(() => runs >= 2);
    expect(log.lines.some((l) => l.level === "error" && l.msg.includes("a/calls"))).toBe(true);
  });

  it("coalesces triggers that arrive while a job runs into one extra run", async () => {
    const s = make();
    const g = gate();
    s.add("a/photos", { kind: "interval", ms: 3_600_000 }, g.run);
    const first = s.trigger("a/photos");
    await until(() => g.runs === 1);
    expect(s.isRunning("a/photos")).toBe(true);
    let secondDone = false;
    let thirdDone = false;
    const second = s.trigger("a/photos").then(() => {
      secondDone = true;
    });
    const third = s.trigger("a/photos").then(() => {
      thirdDone = true;
    });
    g.release();
    await until(() => g.runs === 2);
    // The waiting triggers resolve only after the extra run, not when the first run ends.
    await sleep(30);
    expect(secondDone || thirdDone).toBe(false);
    g.release();
    await Promise.all([first, second, third]);
    expect(g.runs).toBe(2);
    expect(g.maxActive).toBe(1);
    expect(s.isRunning("a/photos")).toBe(false);
  });

  it("skips a cron tick while the previous run is still in progress (overrun protection)", async () => {
    const log = recorder();
    const s = make(log);
    const g = gate();
    s.add("a/locate", { kind: "cron", expression: "* * * * * *" }, g.run);
    await until(() => g.runs === 1, 5_000);
    await until(() => log.lines.some((l) => l.level === "warn" && l.msg.includes("skipping a/locate")), 5_000);
    expect(g.runs).toBe(1);
    expect(g.maxActive).toBe(1);
    g.release();
    await until(() => g.runs === 2, 5_000);
    expect(g.maxActive).toBe(1);
    g.release();
  });

  it("computes the next run of a cron job from the expression", () => {
    const s = make();
    s.add("a/photos", { kind: "cron", expression: "0 3 * * *" }, async () => {});
    const next = s.nextRun("a/photos");
    expect(next).not.toBeNull();
    const at = new Date(next ?? 0);
    expect(at.getHours()).toBe(3);
    expect(at.getMinutes()).toBe(0);
    expect(next ?? 0).toBeGreaterThan(Date.now());
    expect(next ?? 0).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
  });

  it("runNow on a cron job runs it immediately", async () => {
    const s = make();
    let runs = 0;
    s.add(
      "a/calls",
      { kind: "cron", expression: "0 3 * * *" },
      async () => {
        runs += 1;
      },
      { runNow: true },
    );
    await until(() => runs === 1);
  });

  it("reports a next run in the future while a job runs (what the runner publishes as next_sync)", async () => {
    const s = make();
    const seen: Array<{ at: number; next: number | null; nextOf: number | null }> = [];
    s.add("a/interval", { kind: "interval", ms: 40 }, async () => {
      await sleep(5);
      seen.push({ at: Date.now(), next: s.nextRun("a/interval"), nextOf: s.nextRunOf("a/") });
    });
    await until(() => seen.length >= 2);
    await s.trigger("a/interval");
    for (const { at, next, nextOf } of seen) {
      expect(next ?? 0).toBeGreaterThan(at);
      expect(nextOf ?? 0).toBeGreaterThan(at);
    }
    const cron: Array<{ at: number; next: number | null }> = [];
    s.add("b/cron", { kind: "cron", expression: "* * * * * *" }, async () => {
      await sleep(5);
      cron.push({ at: Date.now(), next: s.nextRun("b/cron") });
    });
    await until(() => cron.length >= 1, 5_000);
    expect(cron[0]?.next ?? 0).toBeGreaterThan(cron[0]?.at ?? 0);
  });

  it("a trigger arriving in any microtask after a run still gets a run of its own", async () => {
    for (let depth = 0; depth < 6; depth++) {
      const s = make();
      let runs = 0;
      let pending: Promise<void> | undefined;
      s.add("a/race", { kind: "interval", ms: 3_600_000 }, async () => {
        runs += 1;
        if (runs > 1) return;
        let p: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < depth; i++) p = p.then(() => undefined);
        void p.then(() => {
          pending = s.trigger("a/race");
        });
      });
      await s.trigger("a/race");
      await until(() => pending !== undefined);
      await pending;
      expect(runs, `trigger after ${depth} microtasks`).toBe(2);
    }
  });

  it("rejects duplicate and unknown jobs", async () => {
    const s = make();
    s.add("a/x", { kind: "interval", ms: 3_600_000 }, async () => {});
    expect(() => s.add("a/x", { kind: "interval", ms: 10 }, async () => {})).toThrow(/already scheduled/);
    await expect(s.trigger("nope")).rejects.toThrow(/no job/);
  });

  it("stop waits for running jobs and nothing runs afterwards", async () => {
    const s = make();
    const g = gate();
    let ticks = 0;
    s.add("a/slow", { kind: "interval", ms: 3_600_000 }, g.run);
    s.add("a/fast", { kind: "interval", ms: 20 }, async () => {
      ticks += 1;
    });
    void s.trigger("a/slow");
    await until(() => g.runs === 1);
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    await sleep(50);
    expect(stopped).toBe(false);
    g.release();
    await stopping;
    const after = ticks;
    await sleep(100);
    expect(ticks).toBe(after);
    expect(s.nextRun("a/fast")).toBeNull();
  });
});
