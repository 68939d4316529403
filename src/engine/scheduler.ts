import { Cron } from "croner";
import type { Schedule } from "../config/schedule.ts";
import type { Logger } from "../logger.ts";

export type { Schedule } from "../config/schedule.ts";

interface Job {
  name: string;
  run: () => Promise<void>;
  running: Promise<void> | null;
  /** A trigger arrived while running: run once more right after. */
  again: boolean;
  cron: Cron | null;
  timer: NodeJS.Timeout | null;
  schedule: Schedule;
  nextAt: number | null;
}

/**
 * Runs named jobs on intervals or cron expressions (croner). A job never overlaps itself: a tick
 * that arrives while it runs is skipped (logged), an ad-hoc trigger is coalesced into one extra run.
 */
export class Scheduler {
  readonly #jobs = new Map<string, Job>();
  readonly #log: Logger;
  #stopped = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(name: string, schedule: Schedule, run: () => Promise<void>, options: { runNow?: boolean } = {}): void {
    if (this.#jobs.has(name)) throw new Error(`job ${name} already scheduled`);
    const job: Job = { name, run, running: null, again: false, cron: null, timer: null, schedule, nextAt: null };
    this.#jobs.set(name, job);
    if (schedule.kind === "cron") {
      job.cron = new Cron(schedule.expression, { catch: true }, () => this.#tick(job));
      job.nextAt = job.cron.nextRun()?.getTime() ?? null;
    } else {
      this.#arm(job, options.runNow ? 0 : schedule.ms);
    }
    if (options.runNow && schedule.kind === "cron") void this.trigger(name);
  }

  /** Runs a job now (or right after the current run). Resolves when that run has finished. */
  async trigger(name: string): Promise<void> {
    const job = this.#jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    if (job.running !== null) {
      job.again = true;
      await job.running;
      return;
    }
    await this.#execute(job);
  }

  isRunning(name: string): boolean {
    return (this.#jobs.get(name)?.running ?? null) !== null;
  }

  nextRun(name: string): number | null {
    const job = this.#jobs.get(name);
    return job === undefined ? null : this.#next(job);
  }

  /** Earliest next run among the jobs whose name starts with `prefix`. */
  nextRunOf(prefix: string): number | null {
    let next: number | null = null;
    for (const job of this.#jobs.values()) {
      const at = job.name.startsWith(prefix) ? this.#next(job) : null;
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  /**
   * A job's next run. While it runs, `nextAt` still holds the tick that started it (now in the
   * past): an interval job is then due `ms` after it ends (at the earliest now + ms), a cron job at
   * the expression's next occurrence. Jobs read this at the end of their run to publish next_sync.
   */
  #next(job: Job): number | null {
    if (job.running === null || this.#stopped) return job.nextAt;
    if (job.schedule.kind === "interval") return Date.now() + job.schedule.ms;
    return job.cron?.nextRun()?.getTime() ?? null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const running: Promise<void>[] = [];
    for (const job of this.#jobs.values()) {
      job.cron?.stop();
      if (job.timer) clearTimeout(job.timer);
      if (job.running !== null) running.push(job.running);
    }
    await Promise.allSettled(running);
    this.#jobs.clear();
  }

  #arm(job: Job, delay: number): void {
    if (this.#stopped || job.schedule.kind !== "interval") return;
    if (job.timer) clearTimeout(job.timer);
    job.nextAt = Date.now() + delay;
    job.timer = setTimeout(() => this.#tick(job), delay);
    job.timer.unref?.();
  }

  #tick(job: Job): void {
    if (this.#stopped) return;
    if (job.running !== null) {
      this.#log.warn(`skipping ${job.name}: previous run still in progress`);
      if (job.schedule.kind === "interval") this.#arm(job, job.schedule.ms);
      return;
    }
    void this.#execute(job);
  }

  async #execute(job: Job): Promise<void> {
    if (job.timer) clearTimeout(job.timer);
    const run = (async () => {
      try {
        do {
          job.again = false;
          try {
            await job.run();
          } catch (error) {
            this.#log.error(`job ${job.name} failed`, {
              error: error instanceof Error ? error.message : String(error),
            });
          }
        } while (job.again && !this.#stopped);
      } finally {
        // In the same synchronous step as the last `again` check: a trigger arriving after it
        // must see the job idle and start a run, not wait on this finished one.
        job.running = null;
        if (job.schedule.kind === "interval") this.#arm(job, job.schedule.ms);
        else job.nextAt = job.cron?.nextRun()?.getTime() ?? null;
      }
    })();
    job.running = run;
    await run;
  }
}
