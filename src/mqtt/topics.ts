import { createHash } from "node:crypto";
import { haSlug } from "../util/slug.ts";

const MAX_SEGMENT = 32;

function shortHash(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 8);
}

/**
 * A topic segment and discovery id from any id: lowercase, runs of characters outside
 * `[a-z0-9_-]` become `_`, trimmed of `_`. When that loses information (the result differs from
 * the input, e.g. Apple's base64 device ids with `+`, `/` and upper case) or is longer than 32
 * characters, the first 8 hex digits of the SHA-256 of the original id are appended
 * (`abc_def_1a2b3c4d`), so distinct ids stay distinct and the key never changes for an id.
 */
export function topicKey(id: string): string {
  const slug = id
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (slug === id && slug.length > 0 && slug.length <= MAX_SEGMENT) return slug;
  const head = slug.slice(0, MAX_SEGMENT - 9).replace(/_+$/, "");
  return head.length > 0 ? `${head}_${shortHash(id)}` : shortHash(id);
}

/** An entity object id (`[a-z0-9_]`, as Home Assistant's slugify would make it); `fallback` when nothing is left. */
export function objectSlug(text: string, fallback = "unnamed"): string {
  const slug = haSlug(text);
  return slug.length > 0 ? slug : fallback;
}

/** Every topic the bridge uses, from the base topic and discovery prefix. */
export class Topics {
  readonly base: string;
  readonly prefix: string;
  /** Prefix of every discovery id and unique_id: the base topic as a slug (`icloud2mqtt`). */
  readonly idPrefix: string;

  constructor(baseTopic: string, discoveryPrefix: string) {
    this.base = baseTopic.replace(/\/+$/, "");
    this.prefix = discoveryPrefix.replace(/\/+$/, "");
    this.idPrefix = objectSlug(this.base);
  }

  get bridgeState(): string {
    return `${this.base}/bridge/state`;
  }
  get bridgeInfo(): string {
    return `${this.base}/bridge/info`;
  }
  get requestFilter(): string {
    return `${this.base}/bridge/request/+`;
  }
  request(command: string): string {
    return `${this.base}/bridge/request/${command}`;
  }
  response(command: string): string {
    return `${this.base}/bridge/response/${command}`;
  }
  /** The command name of a request topic, or undefined when the topic is not one. */
  commandOf(topic: string): string | undefined {
    const head = `${this.base}/bridge/request/`;
    if (!topic.startsWith(head)) return undefined;
    const rest = topic.slice(head.length);
    return rest.length > 0 && !rest.includes("/") ? rest : undefined;
  }

  /** `<base>/<account>/<segments…>`: every topic of an account (`state`, `findmy/…`, `photos/latest`, …). */
  account(account: string, ...segments: string[]): string {
    return [this.base, topicKey(account), ...segments].join("/");
  }
  accountState(account: string): string {
    return this.account(account, "state");
  }
  accountAvailability(account: string): string {
    return this.account(account, "availability");
  }
  /** The MFA code entity's state: kept empty (never retained), so a code typed in HA never becomes its state. */
  mfaCodeState(account: string): string {
    return this.account(account, "mfa_code");
  }
  /** `<base>/+/<segments…>`: the same topic for every account, as a subscription filter. */
  anyAccount(...segments: string[]): string {
    return [this.base, "+", ...segments].join("/");
  }

  /** Discovery (node) ids; also the HA device identifier. */
  bridgeNodeId(): string {
    return `${this.idPrefix}_bridge`;
  }
  accountNodeId(account: string): string {
    return `${this.idPrefix}_account_${topicKey(account)}`;
  }
  deviceNodeId(account: string, deviceId: string): string {
    return `${this.idPrefix}_device_${topicKey(account)}_${topicKey(deviceId)}`;
  }
  discoveryConfig(nodeId: string): string {
    return `${this.prefix}/device/${nodeId}/config`;
  }
  get discoveryFilter(): string {
    return `${this.prefix}/device/+/config`;
  }
}
