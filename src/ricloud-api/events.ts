import type { Logger } from "../logger.ts";
import type { RicloudEvent, WebhookConfig } from "./records.ts";
import { ORGANISATION_ID, render } from "./resources.ts";
import { signatureHeader } from "./signing.ts";
import type { ApiStore } from "./store.ts";
import { isoNow, newId } from "./time.ts";

/** Waits after the 1st, 2nd, … failed delivery: five attempts over about 70 minutes. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [10_000, 60_000, 600_000, 3_600_000];
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface EventHubOptions {
  store: ApiStore;
  log: Logger;
  retryDelaysMs?: readonly number[];
  /** User-Agent of deliveries. */
  userAgent: string;
}

/**
 * Events (`poll.created`, `task.succeeded`, `session.expired`, …) and their webhook deliveries: each
 * event is POSTed as JSON to `<webhook config url>/<event id>` (ricloud-py's receivers route
 * `/webhooks/<uuid>` and `/events/<uuid>`), signed with `Ricloud-Signature`; a delivery that fails
 * (no 2xx within 10 s) is retried with back-off, and the schedule survives restarts.
 */
export class EventHub {
  readonly #o: EventHubOptions;
  readonly #delays: readonly number[];
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inflight = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(options: EventHubOptions) {
    this.#o = options;
    this.#delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  }

  /** Re-arms the deliveries that were pending when the API stopped. */
  start(): void {
    for (const event of this.#o.store.state.events) {
      if (event._next_attempt !== null) this.#arm(event, Math.max(0, event._next_attempt - Date.now()));
    }
  }

  /** Arms no further delivery and waits for those under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  /**
   * Records an event and delivers it to the key's webhook config, else the organisation's default
   * (only a `valid` one); `webhookConfig` names the target explicitly (a config's own test).
   */
  emit(type: string, action: string, data: unknown, key: string | null, webhookConfig?: string): RicloudEvent {
    const { store } = this.#o;
    const target = webhookConfig ?? this.#targetFor(key);
    const event: RicloudEvent = {
      id: newId(),
      resource: "event",
      organisation: ORGANISATION_ID,
      key,
      type,
      action,
      data,
      webhook_config: target,
      state: "pending",
      retries: 0,
      date_created: isoNow(),
      date_delivered: null,
      _next_attempt: target === null ? null : Date.now(),
    };
    store.state.events.push(event);
    store.changed();
    if (target !== null && webhookConfig === undefined) this.#arm(event, 0);
    return event;
  }

  /** One delivery attempt of `event` to `config` (no retry); true on a 2xx answer. */
  async deliverOnce(event: RicloudEvent, config: WebhookConfig): Promise<boolean> {
    const body = JSON.stringify(render(event));
    const url = `${config.url.replace(/\/+$/, "")}/${event.id}`;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": this.#o.userAgent,
          "ricloud-signature": signatureHeader(body, config._secret),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) {
        this.#settle(event, "delivered");
        return true;
      }
      this.#o.log.info("webhook delivery refused", { event: event.id, status: response.status });
    } catch (error) {
      this.#o.log.info("webhook delivery failed", {
        event: event.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return false;
  }

  #targetFor(key: string | null): string | null {
    const { state } = this.#o.store;
    const id = (key === null ? null : state.keys[key]?.webhook_config) ?? state.organisation.webhook_config_default;
    const config = state.webhook_configs.find((candidate) => candidate.id === id);
    return config?.state === "valid" ? config.id : null;
  }

  #arm(event: RicloudEvent, delay: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timers.get(event.id));
    const timer = setTimeout(() => {
      this.#timers.delete(event.id);
      const attempt = this.#attempt(event);
      this.#inflight.add(attempt);
      void attempt.finally(() => this.#inflight.delete(attempt));
    }, delay);
    timer.unref?.();
    this.#timers.set(event.id, timer);
  }

  async #attempt(event: RicloudEvent): Promise<void> {
    const config = this.#o.store.state.webhook_configs.find((candidate) => candidate.id === event.webhook_config);
    if (config === undefined || config.state === "deactivated") {
      this.#settle(event, "failed");
      return;
    }
    if (await this.deliverOnce(event, config)) return;
    if (this.#stopped) return;
    const delay = this.#delays[event.retries];
    if (delay === undefined) {
      this.#settle(event, "failed");
      return;
    }
    event.retries += 1;
    event._next_attempt = Date.now() + delay;
    this.#o.store.changed();
    this.#arm(event, delay);
  }

  #settle(event: RicloudEvent, state: "delivered" | "failed"): void {
    event.state = state;
    event._next_attempt = null;
    if (state === "delivered") event.date_delivered = isoNow();
    this.#o.store.changed();
  }
}
