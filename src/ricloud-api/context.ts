import type { RicloudApiConfig } from "../config/ricloud-api-schema.ts";
import type { EngineApi } from "../engine/api.ts";
import type { RateLimiter } from "../http/rate-limit.ts";
import type { Logger } from "../logger.ts";
import type { EventHub } from "./events.ts";
import type { KeyStore } from "./key-store.ts";
import type { PollRunner } from "./polls.ts";
import type { SessionManager } from "./sessions.ts";
import type { StorageRegistry } from "./storage-registry.ts";
import type { ApiStore } from "./store.ts";
import type { Subscriptions } from "./subscriptions.ts";
import type { OfferedTypes } from "./views.ts";

/** What route groups share. */
export interface ApiDeps {
  api: EngineApi;
  config: RicloudApiConfig;
  stateDir: string;
  store: ApiStore;
  keys: KeyStore;
  sessions: SessionManager;
  polls: PollRunner;
  events: EventHub;
  storage: StorageRegistry;
  subscriptions: Subscriptions;
  types: OfferedTypes;
  pollLimiter: RateLimiter;
  log: Logger;
}
