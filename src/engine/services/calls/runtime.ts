import type { CallkitCall } from "../../../icloud/calls/types.ts";
import type { ServiceContext, ServiceJob, ServiceRuntime } from "../service-module.ts";
import type { CallsConfig } from "./config.ts";
import type { CallsEvents, CallsSnapshot } from "./events.ts";
import { CallsJob } from "./job.ts";
import { type CallsState, RECENT_CALLS } from "./state.ts";

/** Call history for one account: new calls since the stored cursor on `schedule`, each announced once. */
export class CallsRuntime implements ServiceRuntime<CallsSnapshot> {
  readonly jobs: readonly ServiceJob[];
  readonly #ctx: ServiceContext<CallsConfig, CallsState, CallsEvents>;
  readonly #job: CallsJob;

  constructor(ctx: ServiceContext<CallsConfig, CallsState, CallsEvents>) {
    this.#ctx = ctx;
    this.#job = new CallsJob(ctx.transport, ctx.config, ctx.log);
    this.jobs = [{ name: "calls", schedule: ctx.config.schedule, run: () => this.#poll() }];
  }

  snapshot(): CallsSnapshot {
    const { last, recent } = this.#ctx.state;
    return { last, recent: recent.length === 0 && last !== null ? [last] : [...recent] };
  }

  /** Call history newest first: at most `limit` calls, only those that started after `since`. */
  history(options: { since?: string; limit: number }): Promise<CallkitCall[]> {
    return this.#job.history({
      limit: options.limit,
      ...(options.since === undefined ? {} : { since: new Date(options.since) }),
    });
  }

  close(): void {
    this.#job.close();
  }

  async #poll(): Promise<void> {
    const { state } = this.#ctx;
    const previous = state.last?.id;
    const result = await this.#job.poll(state);
    state.cursor = result.cursor;
    state.last = result.last;
    const newest = [...result.calls].reverse();
    if (result.last !== null && !newest.some((c) => c.id === result.last?.id)) newest.unshift(result.last);
    const ids = new Set(newest.map((c) => c.id));
    state.recent = [...newest, ...state.recent.filter((c) => !ids.has(c.id))].slice(0, RECENT_CALLS);
    await this.#ctx.save();
    for (const call of result.calls) this.#ctx.emit("call.new", { call });
    if (result.last && result.last.id !== previous) this.#ctx.emit("call.last", { call: result.last });
  }
}
