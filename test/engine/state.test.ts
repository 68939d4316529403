import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogBuffer, levelAtLeast } from "../../src/engine/log-buffer.ts";
import { EngineStateStore } from "../../src/engine/state-store.ts";
import type { Logger } from "../../src/logger.ts";

function recorder(): Logger & { warnings: Array<{ msg: string; ctx?: Record<string, unknown> }> } {
  const warnings: Array<{ msg: string; ctx?: Record<string, unknown> }> = [];
  const log = {
    warnings,
    debug() {},
    info() {},
    warn: (msg: string, ctx?: Record<string, unknown>) => void warnings.push({ msg, ...(ctx ? { ctx } : {}) }),
    error() {},
    child: () => log,
  };
  return log;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "i2m-engine-state-"));
  dirs.push(dir);
  return dir;
}

describe("EngineStateStore", () => {
  const sections = () => ({
    photos: {
      sync: null,
      latest: null,
      count: 12,
      watermark: "2026-01-01T00:00:00Z",
      announced: ["a1", "a2"],
      pending_downloads: [{ id: "a3", master_id: "m3", database: "private", zone: "PrimarySync" }],
    },
    calls: { cursor: "cur-9", last: null },
    findmy: { devices: {} },
  });

  it("starts from no sections when nothing is stored", async () => {
    const store = new EngineStateStore(await tempDir(), recorder());
    expect(await store.load("jane")).toEqual({});
  });

  it("round-trips every service's section, in a versioned file", async () => {
    const dir = await tempDir();
    const state = sections();
    await new EngineStateStore(dir, recorder()).save("jane", state);
    // A new store (a restart) reads back the same sections.
    expect(await new EngineStateStore(dir, recorder()).load("jane")).toEqual(state);
    const file = JSON.parse(await readFile(join(dir, "engine", "jane.json"), "utf8")) as { version: number };
    expect(file.version).toBe(1);
  });

  it("writes atomically with mode 0600 and leaves no temporary files", async () => {
    const dir = await tempDir();
    const store = new EngineStateStore(dir, recorder());
    const state = sections();
    for (let i = 0; i < 5; i++) {
      state.photos.count = i;
      await store.save("jane", state);
    }
    // Concurrent saves never leave a torn file behind.
    await Promise.all([1, 2, 3, 4].map((n) => store.save("jane", { ...state, photos: { ...state.photos, count: n } })));
    const files = await readdir(join(dir, "engine"));
    expect(files).toEqual(["jane.json"]);
    const info = await stat(join(dir, "engine", "jane.json"));
    expect(info.mode & 0o777).toBe(0o600);
    const parsed = JSON.parse(await readFile(join(dir, "engine", "jane.json"), "utf8")) as {
      photos: { count: number };
    };
    expect([1, 2, 3, 4]).toContain(parsed.photos.count);
  });

  it("treats a corrupt or foreign file as empty and warns", async () => {
    const dir = await tempDir();
    const log = recorder();
    const store = new EngineStateStore(dir, log);
    await store.save("jane", sections());
    await writeFile(join(dir, "engine", "jane.json"), "{ not json");
    expect(await store.load("jane")).toEqual({});
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]?.msg).toMatch(/unreadable/);
    expect(log.warnings[0]?.ctx).toMatchObject({ account: "jane" });

    await writeFile(join(dir, "engine", "jane.json"), JSON.stringify({ version: 2 }));
    expect(await store.load("jane")).toEqual({});
    expect(log.warnings).toHaveLength(2);
  });

  it("refuses account ids and file names that could escape the state folder", async () => {
    const store = new EngineStateStore(await tempDir(), recorder());
    await expect(store.load("../etc")).rejects.toThrow(/invalid account id/);
    await expect(store.save("A/B", {})).rejects.toThrow(/invalid account id/);
    await store.saveFile("jane", "../../x.jpg", Buffer.from("x"));
    expect(await store.loadFile("jane", "../../x.jpg")).toBeNull();
  });

  it("keeps small files beside the state (a cache: a failed write only warns)", async () => {
    const dir = await tempDir();
    const log = recorder();
    const store = new EngineStateStore(dir, log);
    await store.saveFile("jane", "latest-thumbnail.jpg", Buffer.from([0xff, 0xd8]));
    expect(await store.loadFile("jane", "latest-thumbnail.jpg")).toEqual(Buffer.from([0xff, 0xd8]));
    expect(await store.loadFile("jane", "missing.jpg")).toBeNull();
    await store.saveFile("jane", "../../x.jpg", Buffer.from("x"));
    expect(log.warnings.at(-1)?.msg).toMatch(/could not keep/);
  });
});

describe("LogBuffer", () => {
  const entry = (account: string | null, level: "debug" | "info" | "warn" | "error", time: number) => ({
    account,
    level,
    time,
    source: "test",
    message: `${account}-${level}-${time}`,
  });

  it("filters by level and account, always including the bridge's own lines, sorted by time", () => {
    const logs = new LogBuffer();
    logs.add(entry("jane", "debug", 1));
    logs.add(entry("jane", "info", 4));
    logs.add(entry(null, "warn", 2));
    logs.add(entry("john", "error", 3));
    expect(logs.list("jane", "debug").map((e) => e.message)).toEqual(["jane-debug-1", "null-warn-2", "jane-info-4"]);
    expect(logs.list("jane", "info").map((e) => e.message)).toEqual(["null-warn-2", "jane-info-4"]);
    expect(logs.list("jane", "error")).toEqual([]);
    expect(logs.list(undefined, "warn").map((e) => e.message)).toEqual(["null-warn-2", "john-error-3"]);
    expect(logs.list("nobody", "debug").map((e) => e.message)).toEqual(["null-warn-2"]);
  });

  it("clear forgets one account's lines only", () => {
    const logs = new LogBuffer();
    logs.add(entry("jane", "info", 1));
    logs.add(entry("john", "info", 2));
    logs.add(entry(null, "info", 3));
    logs.clear("jane");
    expect(logs.list(undefined, "debug").map((e) => e.message)).toEqual(["john-info-2", "null-info-3"]);
  });

  it("keeps at most `limit` lines per account, dropping the oldest", () => {
    const logs = new LogBuffer(3);
    for (let i = 1; i <= 5; i++) logs.add(entry("jane", "info", i));
    expect(logs.list("jane", "debug").map((e) => e.time)).toEqual([3, 4, 5]);
  });

  it("levelAtLeast orders debug < info < warn < error", () => {
    expect(levelAtLeast("error", "warn")).toBe(true);
    expect(levelAtLeast("info", "info")).toBe(true);
    expect(levelAtLeast("debug", "info")).toBe(false);
  });
});
