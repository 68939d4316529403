import { parseSchedule, scheduleProblem, shortestGapMs } from "../config/schedule.ts";
import { Scheduler } from "../engine/scheduler.ts";
import type { Logger } from "../logger.ts";
import { invalidParameter } from "./errors.ts";
import type { PollRunner } from "./polls.ts";
import type { PollPayload, Session, Source, Subscription } from "./records.ts";
import { ORGANISATION_ID } from "./resources.ts";
import type { ApiStore } from "./store.ts";
import { isoNow, newId } from "./time.ts";

export const DEFAULT_SUBSCRIPTION_SCHEDULE = "1h";
/** Subscriptions poll at most this often; the services' own limits apply on top. */
export const MIN_SUBSCRIPTION_GAP_MS = 60_000;

/**
 * Scheduled polls: a subscription creates a poll with its `poll_payload` on its `schedule` (an
 * interval such as `30m` or a cron expression, as in the configuration) while its session is
 * active; results and events are those of any poll (`requestor: "subscription"`).
 */
export class Subscriptions {
  readonly #store: ApiStore;
  readonly #polls: PollRunner;
  readonly #log: Logger;
  /** One scheduler per active subscription, stopped when it ends. */
  readonly #schedulers = new Map<string, Scheduler>();
  readonly #minGapMs: number;

  constructor(options: { store: ApiStore; polls: PollRunner; log: Logger; minGapMs?: number }) {
    this.#minGapMs = options.minGapMs ?? MIN_SUBSCRIPTION_GAP_MS;
    this.#store = options.store;
    this.#polls = options.polls;
    this.#log = options.log;
  }

  start(): void {
    for (const subscription of this.#store.state.subscriptions) {
      if (subscription.state === "active") this.#schedule(subscription);
    }
  }

  async stop(): Promise<void> {
    const schedulers = [...this.#schedulers.values()];
    this.#schedulers.clear();
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
  }

  create(key: string, session: Session, source: Source, payload: PollPayload, schedule: string | number): Subscription {
    this.#polls.plan(payload);
    const problem = scheduleProblem(schedule);
    if (problem !== undefined) throw invalidParameter("schedule", problem);
    if (shortestGapMs(parseSchedule(schedule)) < this.#minGapMs)
      throw invalidParameter("schedule", `subscriptions poll at most every ${this.#minGapMs / 1000} seconds`);
    const subscription: Subscription = {
      id: newId(),
      resource: "subscription",
      organisation: ORGANISATION_ID,
      key,
      user: source.user,
      source: source.id,
      session: session.id,
      poll_payload: payload,
      schedule,
      state: "active",
      date_created: isoNow(),
      date_ended: null,
    };
    this.#store.state.subscriptions.push(subscription);
    this.#store.changed();
    this.#schedule(subscription);
    return subscription;
  }

  end(subscription: Subscription): void {
    if (subscription.state === "ended") return;
    subscription.state = "ended";
    subscription.date_ended = isoNow();
    this.#store.changed();
    const scheduler = this.#schedulers.get(subscription.id);
    this.#schedulers.delete(subscription.id);
    void scheduler?.stop();
  }

  #schedule(subscription: Subscription): void {
    const scheduler = new Scheduler(this.#log);
    this.#schedulers.set(subscription.id, scheduler);
    scheduler.add(`subscription/${subscription.id}`, parseSchedule(subscription.schedule), async () => {
      if (subscription.state !== "active") return;
      const s = this.#store.state;
      const session = s.sessions.find((candidate) => candidate.id === subscription.session);
      const source = s.sources.find((candidate) => candidate.id === subscription.source);
      if (session?.state !== "active" || source === undefined) {
        this.#log.info("subscription skipped: its session is not active", { subscription: subscription.id });
        return;
      }
      this.#polls.create(subscription.key, session, source, subscription.poll_payload, subscription.id);
    });
  }
}
