import type { Agent } from "node:https";
import { hostname } from "node:os";
import type { EventBus } from "../engine/event-bus.ts";
import type { EngineEvents } from "../engine/events.ts";
import type { Logger } from "../logger.ts";
import { PushStore, type Subscription } from "./push-store.ts";

/** What the service worker receives (JSON) and shows as a notification. */
export interface PushMessage {
  title: string;
  body: string;
  /** Notifications with the same tag replace each other. */
  tag: string;
  /** Page to open on click, relative to the UI's base URL. */
  url: string;
  urgency: "normal" | "high";
}

export interface PushNotifierOptions {
  stateDir: string;
  subject: string | null;
  logger: Logger;
  /** HTTPS agent for requests to push services (proxies, tests with a private CA). */
  agent?: Agent;
}

/** A VAPID subject from the host name, when push.subject is not configured. */
export function defaultSubject(host = hostname()): string {
  const clean = host.toLowerCase().replace(/[^a-z0-9.-]/g, "");
  return `mailto:icloud2mqtt@${clean.includes(".") ? clean : `${clean || "localhost"}.local`}`;
}

function endpointOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin; // the path identifies the browser: keep it out of logs
  } catch {
    return "(invalid endpoint)";
  }
}

/**
 * Web Push: keeps the VAPID keys and subscriptions, and notifies every subscribed browser
 * when an account needs a code (`mfa.required`) or a sync failed (`sync.failed`). A push
 * service answering 404 or 410 means the subscription is gone: it is removed.
 */
export class PushNotifier {
  readonly #store: PushStore;
  readonly #subject: string;
  readonly #log: Logger;
  readonly #agent: Agent | undefined;
  #bus: EventBus<EngineEvents> | undefined;

  constructor(options: PushNotifierOptions) {
    this.#log = options.logger;
    this.#store = new PushStore(options.stateDir, options.logger);
    this.#subject = options.subject ?? defaultSubject();
    this.#agent = options.agent;
  }

  async start(bus: EventBus<EngineEvents>): Promise<void> {
    await this.#store.load();
    this.#bus = bus;
    bus.on(this, "mfa.required", ({ account, state }) => {
      const choice = state.session.error === "choice-required";
      return this.notify({
        title: choice ? "iCloud needs you to choose a device" : "iCloud needs a verification code",
        body: choice
          ? `Account "${account}": choose where Apple should send the verification code.`
          : `Account "${account}": enter the six-digit code shown on your Apple device or sent by SMS.`,
        tag: `mfa-${account}`,
        url: `mfa?account=${encodeURIComponent(account)}`,
        urgency: "high",
      });
    });
    bus.on(this, "sync.failed", ({ account, message }) =>
      this.notify({
        title: "iCloud sync failed",
        body: `Account "${account}": ${message}`,
        tag: `sync-${account}`,
        url: `?account=${encodeURIComponent(account)}`,
        urgency: "normal",
      }),
    );
  }

  stop(): void {
    this.#bus?.removeListeners(this);
    this.#bus = undefined;
  }

  get publicKey(): string {
    return this.#store.vapid.publicKey;
  }

  get subscriptionCount(): number {
    return this.#store.subscriptions.length;
  }

  subscribe(subscription: Subscription): Promise<void> {
    return this.#store.add(subscription);
  }

  /** Sends to every subscription; never rejects. */
  async notify(message: PushMessage): Promise<void> {
    const payload = JSON.stringify(message);
    await Promise.all(this.#store.subscriptions.map((s) => this.#send(s, payload, message.urgency)));
  }

  async #send(subscription: Subscription, payload: string, urgency: PushMessage["urgency"]): Promise<void> {
    const { publicKey, privateKey } = this.#store.vapid;
    // Loaded on the first notification: most bridges never send one.
    const { default: webpush } = await import("web-push");
    try {
      await webpush.sendNotification(subscription, payload, {
        vapidDetails: { subject: this.#subject, publicKey, privateKey },
        TTL: 3600,
        urgency,
        contentEncoding: "aes128gcm",
        timeout: 10_000,
        ...(this.#agent ? { agent: this.#agent } : {}),
      });
    } catch (error) {
      const status = error instanceof webpush.WebPushError ? error.statusCode : undefined;
      const where = endpointOrigin(subscription.endpoint);
      if (status === 404 || status === 410) {
        this.#log.info(`push subscription at ${where} expired (HTTP ${status}); removing it`);
        await this.#store
          .remove(subscription.endpoint)
          .catch((e: unknown) => this.#log.warn("could not save push subscriptions", { error: String(e) }));
        return;
      }
      this.#log.warn(`push notification to ${where} failed`, {
        status,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
