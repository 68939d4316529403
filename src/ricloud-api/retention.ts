import type { Logger } from "../logger.ts";
import type { StorageRegistry } from "./storage-registry.ts";
import type { ApiStore } from "./store.ts";
import { isoNow } from "./time.ts";

/**
 * Results older than the retention expire: their file is deleted and their state becomes `expired`.
 * Consumed and expired results leave the index after twice the retention.
 */
export async function expireResults(
  store: ApiStore,
  storage: StorageRegistry,
  retentionMs: number,
  log: Logger,
  now: number = Date.now(),
): Promise<number> {
  let expired = 0;
  for (const result of store.state.results) {
    if (result.state !== "available" || now - Date.parse(result.date_created) < retentionMs) continue;
    await storage
      .forResult(result._storage_config)
      ?.remove(result._object)
      .catch(() => undefined);
    result.state = "expired";
    result.date_deleted = isoNow(now);
    expired += 1;
  }
  const before = store.state.results.length;
  store.state.results = store.state.results.filter(
    (result) => result.state === "available" || now - Date.parse(result.date_created) < 2 * retentionMs,
  );
  if (expired > 0 || before !== store.state.results.length) {
    log.info("ricloud results expired", { expired, dropped: before - store.state.results.length });
    store.changed();
  }
  return expired;
}
