import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.ts";
import { isEngineError } from "../../src/errors.ts";
import { fakeDevice } from "../../src/testing/fixtures.ts";

/** The engine as a library: what `new Engine({ accounts, stateDir, logger })` accepts and how it keeps state. */

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "i2m-embed-"));
  dirs.push(dir);
  return dir;
}

function warnings() {
  const lines: string[] = [];
  const log = {
    lines,
    debug() {},
    info() {},
    warn: (msg: string) => void lines.push(msg),
    error() {},
    child: () => log,
  };
  return log;
}

describe("Engine options", () => {
  it("parses accounts at the edge: defaults filled, problems named by key, no secret quoted", () => {
    const engine = new Engine({ accounts: [{ id: "jane", username: "jane@example.com" }], stateDir: "/nonexistent" });
    expect(engine.accounts()).toEqual([
      {
        id: "jane",
        username: "jane@example.com",
        services: {
          findmy: true,
          photos: true,
          calls: true,
          contacts: false,
          calendar: true,
          notes: false,
          safari: false,
        },
      },
    ]);
    let error: unknown;
    try {
      new Engine({
        accounts: [
          { id: "jane", username: "jane@example.com", password: "hunter2-secret", findmy: { schedule: "often" } },
          { id: "jane", username: "x@example.com" },
        ],
        stateDir: "/nonexistent",
      });
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error, "CONFIG_INVALID")).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/accounts: 0\.findmy\.schedule: "often" is neither an interval/);
    expect(message).toMatch(/1\.id: duplicate account id "jane"/);
    expect(message).not.toContain("hunter2-secret");
  });

  it("refuses an account id that clashes with the program's own topics", () => {
    expect(() => new Engine({ accounts: [{ id: "bridge", username: "b@example.com" }], stateDir: "/x" })).toThrow(
      /id: is reserved/,
    );
  });
});

describe("persisted state, one section per service", () => {
  it("reads a state file of the previous layout (devices at the top level) and writes sections", async () => {
    const dir = await stateDir();
    const device = fakeDevice("dev-1", "Jane's iPhone");
    await mkdir(join(dir, "engine"), { recursive: true });
    await writeFile(
      join(dir, "engine", "jane.json"),
      JSON.stringify({
        version: 1,
        devices: { "dev-1": device },
        calls: { cursor: "c-1", last: null },
        photos: { sync: null, latest: null, count: 7 },
      }),
    );
    const engine = new Engine({ accounts: [{ id: "jane", username: "jane@example.com" }], stateDir: dir });
    await engine.load();
    const snapshot = engine.snapshot("jane");
    // Devices stored before friendly names existed get one at start.
    expect(snapshot.findmy.devices).toEqual([{ ...device, slug: "jane_s_iphone" }]);
    expect(snapshot.photos).toEqual({ latest: null, count: 7, backfill: null });
    expect(snapshot.calls).toEqual({ last: null, recent: [] });
    await engine.stop();
  });

  it("a section that no longer parses starts only that service afresh, and says so", async () => {
    const dir = await stateDir();
    const device = fakeDevice("dev-1", "Jane's iPhone");
    await mkdir(join(dir, "engine"), { recursive: true });
    await writeFile(
      join(dir, "engine", "jane.json"),
      JSON.stringify({ version: 1, findmy: { devices: { "dev-1": device } }, photos: { count: "many" } }),
    );
    const log = warnings();
    const engine = new Engine({ accounts: [{ id: "jane", username: "j@example.com" }], stateDir: dir, logger: log });
    await engine.load();
    expect(engine.snapshot("jane").findmy.devices).toEqual([{ ...device, slug: "jane_s_iphone" }]);
    expect(engine.snapshot("jane").photos).toEqual({ latest: null, count: null, backfill: null });
    expect(log.lines).toContain("stored Photos state is invalid; starting that service from an empty state");
    await engine.stop();
  });

  it("keeps the state of a disabled service untouched, so enabling it again loses nothing", async () => {
    const dir = await stateDir();
    const device = fakeDevice("dev-1", "Jane's iPhone");
    await mkdir(join(dir, "engine"), { recursive: true });
    const file = join(dir, "engine", "jane.json");
    await writeFile(file, JSON.stringify({ version: 1, findmy: { devices: { "dev-1": device } } }));
    const disabled = new Engine({
      accounts: [{ id: "jane", username: "j@example.com", findmy: { enabled: false } }],
      stateDir: dir,
    });
    await disabled.load();
    expect(disabled.snapshot("jane").findmy.devices).toEqual([]);
    await expect(disabled.execute("play_sound", { device: "dev-1" })).rejects.toMatchObject({
      code: "SERVICE_NOT_AVAILABLE",
      message: "Find My is disabled for this account",
    });
    await disabled.stop();
    const stored = JSON.parse(await readFile(file, "utf8")) as { findmy: unknown };
    expect(stored.findmy).toEqual({ devices: { "dev-1": device } });
  });
});
