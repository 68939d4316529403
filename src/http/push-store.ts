import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "../logger.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";

const Base64UrlSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_-]+={0,2}$/);

/** A browser's PushSubscription.toJSON(); unknown keys are dropped. */
export const SubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https$/ }).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: Base64UrlSchema, auth: Base64UrlSchema }),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

const StoreSchema = z.object({
  vapid: z.object({ publicKey: Base64UrlSchema, privateKey: Base64UrlSchema }),
  subscriptions: z.array(SubscriptionSchema),
});
type StoreData = z.infer<typeof StoreSchema>;

export const PUSH_STORE_FILE = "web-push.json";
const MAX_SUBSCRIPTIONS = 50;

/**
 * A new VAPID key pair (ECDSA P-256, RFC 8292) as web-push expects it: the public key as the
 * uncompressed point (65 bytes), the private key as the 32-byte scalar, both base64url. Made with
 * node:crypto, so web-push is loaded only when a notification is sent.
 */
export function newVapidKeys(): { publicKey: string; privateKey: string } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.x === undefined || jwk.y === undefined || jwk.d === undefined) throw new Error("P-256 key without x, y or d");
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  return { publicKey: point.toString("base64url"), privateKey: jwk.d };
}

/**
 * The VAPID key pair (generated once) and the push subscriptions, in one JSON file in the
 * state directory, mode 0600, written atomically; writes are serialised.
 */
export class PushStore {
  readonly #path: string;
  readonly #log: Logger;
  #data: StoreData | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string, log: Logger) {
    this.#path = join(stateDir, PUSH_STORE_FILE);
    this.#log = log;
  }

  async load(): Promise<void> {
    const text = await readFileIfExists(this.#path);
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        raw = undefined;
      }
      const parsed = StoreSchema.safeParse(raw);
      if (parsed.success) {
        this.#data = parsed.data;
        return;
      }
      this.#log.warn(`${PUSH_STORE_FILE} is unreadable; creating new VAPID keys (browsers must subscribe again)`);
    }
    this.#data = { vapid: newVapidKeys(), subscriptions: [] };
    await this.#save();
  }

  get #current(): StoreData {
    if (!this.#data) throw new Error("PushStore.load() was not called");
    return this.#data;
  }

  get vapid(): { publicKey: string; privateKey: string } {
    return this.#current.vapid;
  }

  get subscriptions(): readonly Subscription[] {
    return this.#current.subscriptions;
  }

  async add(subscription: Subscription): Promise<void> {
    const data = this.#current;
    const others = data.subscriptions.filter((s) => s.endpoint !== subscription.endpoint);
    data.subscriptions = [...others, subscription].slice(-MAX_SUBSCRIPTIONS);
    await this.#save();
  }

  async remove(endpoint: string): Promise<void> {
    const data = this.#current;
    const before = data.subscriptions.length;
    data.subscriptions = data.subscriptions.filter((s) => s.endpoint !== endpoint);
    if (data.subscriptions.length !== before) await this.#save();
  }

  #save(): Promise<void> {
    const text = `${JSON.stringify(this.#current, null, 2)}\n`;
    this.#writing = this.#writing.catch(() => undefined).then(() => writeFileAtomic(this.#path, text, 0o600));
    return this.#writing;
  }
}
