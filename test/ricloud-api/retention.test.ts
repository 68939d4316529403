import { stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import type { Result } from "../../src/ricloud-api/records.ts";
import { expireResults } from "../../src/ricloud-api/retention.ts";
import { StorageRegistry } from "../../src/ricloud-api/storage-registry.ts";
import { ApiStore } from "../../src/ricloud-api/store.ts";
import { cleanUp, tempDir } from "../support/harness.ts";

afterEach(cleanUp);

const DAY = 86_400_000;

describe("ricloud API: result retention", () => {
  it("expires results after the retention (file deleted) and drops them from the index after twice that", async () => {
    const dir = await tempDir("i2m-ricloud-retention-");
    const store = await ApiStore.open(dir, silentLogger);
    const storage = new StorageRegistry(dir, store);
    await storage.ensureDefault();
    const { backend, config } = storage.forKey("1");
    const created = Date.now();
    const stored = await backend.put("poll-1/result-1.json", Buffer.from('{"data":[]}\n'));
    const result: Result = {
      id: "result-1",
      resource: "result",
      organisation: "1",
      key: "1",
      poll: "poll-1",
      task: "task-1",
      identifier: "data:callkit.calls",
      type: "json",
      ...stored,
      state: "available",
      date_created: new Date(created).toISOString(),
      date_consumed: null,
      date_deleted: null,
      _storage_config: config,
      _object: "poll-1/result-1.json",
    };
    store.state.results.push(result);
    const path = new URL(stored.url).pathname;

    expect(await expireResults(store, storage, 7 * DAY, silentLogger, created + 6 * DAY)).toBe(0);
    expect((await stat(path)).size).toBe(stored.size);
    expect(await expireResults(store, storage, 7 * DAY, silentLogger, created + 8 * DAY)).toBe(1);
    expect(result).toMatchObject({ state: "expired", date_deleted: expect.any(String) });
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    expect(store.state.results).toHaveLength(1);
    await expireResults(store, storage, 7 * DAY, silentLogger, created + 15 * DAY);
    expect(store.state.results).toHaveLength(0);
    await store.close();
  });
});
