import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.ts";
import { findPhotosSimulator } from "../../src/simulator/photos/index.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { cleanUp, startTestSimulator, type TestAccount, tempDir, until } from "../support/harness.ts";
import { killAll, type NodeChild, spawnNode } from "../support/processes.ts";
import { ALL_OFF } from "../support/service-engine.ts";

afterEach(async () => {
  await killAll();
  await cleanUp();
});

/**
 * `Engine.stop()` in a host process (Homebridge, Node-RED): a child process embeds the engine, is
 * told to stop at a given moment, and must then leave its state folder alone and end by itself
 * (no `process.exit`): no timer, request, socket, lock heartbeat or file watcher may keep it alive.
 */

const SMALL = { original_size: { min: 20_000, max: 60_000 }, video_ratio: 0, live_photo_ratio: 0 };

interface Event {
  event: string;
  state?: string;
  session?: string;
  synced?: Record<string, string | null>;
  handles?: string[];
}

/** Every file under `dir` with its size and content hash (what "nothing changed" compares). */
async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const hash = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
    out[path.slice(dir.length)] = `${(await stat(path)).size} ${hash.slice(0, 16)}`;
  }
  return out;
}

const events = (child: NodeChild) => child.events() as unknown as Event[];

async function host(sim: SimulatorHandle, account: TestAccount, settings: Record<string, unknown>, dir: string) {
  const child = spawnNode(["test/support/engine-child.ts"], {
    ENGINE_STATE_DIR: dir,
    ENGINE_ACCOUNT: JSON.stringify({
      id: "host",
      username: account.appleId,
      password: account.password,
      endpoint: sim.url,
      ...ALL_OFF,
      ...settings,
    }),
  });
  await child.waitFor(/"event":"started"/, "the engine to start");
  return child;
}

/** Stops the engine, then checks that the state folder stays as it was and the process ends by itself. */
async function stopAndCheck(child: NodeChild, dir: string): Promise<void> {
  child.write("stop\n");
  await child.waitFor(/"event":"stopped"/, "the engine to stop", 15_000);
  const stopped = events(child).find((e) => e.event === "stopped");
  const before = await files(dir);
  const exit = await Promise.race([
    child.exited,
    new Promise<string>((resolve) => setTimeout(() => resolve("still running 2 s after the stop"), 2_000)),
  ]);
  expect({ exit, handles: stopped?.handles }).toEqual({ exit: 0, handles: [] });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await files(dir)).toEqual(before);
}

const synced = (child: NodeChild, key: string) => events(child).some((e) => e.synced?.[key] != null);

describe("Engine.stop() in a host process", () => {
  it("during the SRP sign-in: the request in flight is cut; nothing is written after; the process ends", async () => {
    const account = { appleId: "srp@stop.example", password: "stop-password", code: "111111" };
    const sim = await startTestSimulator(account, { mfa: { kind: "none" } }, [
      { endpoint: "idmsa.signin.complete", kind: "hang" },
    ]);
    const dir = await tempDir("i2m-stop-srp-");
    const child = await host(sim, account, {}, dir);
    await until(() => sim.faults.list().some((f) => f.hits > 0), "the SRP proof in flight");
    await stopAndCheck(child, dir);
    expect(sim.stats(account.appleId).srp_signins).toBe(0);
  }, 30_000);

  it("while waiting for the code: the lock is released, its heartbeat and file watch end", async () => {
    const account = { appleId: "code@stop.example", password: "stop-password", code: "222222" };
    const sim = await startTestSimulator(account);
    const dir = await tempDir("i2m-stop-code-");
    const child = await host(sim, account, {}, dir);
    await child.waitFor(/"state":"blocked"/, "the code wait");
    await stopAndCheck(child, dir);
    const sessions = await readdir(join(dir, "sessions"));
    expect(sessions.filter((f) => f.endsWith(".lock"))).toEqual([]);
  }, 30_000);

  it("during a photos change check: the poll's request is cut; no token or status is written after", async () => {
    const account = { appleId: "poll@stop.example", password: "stop-password", code: "333333" };
    const sim = await startTestSimulator(account, { mfa: { kind: "none" }, photos: { count: 3, seed: 3, ...SMALL } });
    const dir = await tempDir("i2m-stop-poll-");
    const child = await host(sim, account, { photos: { schedule: "1h" } }, dir);
    await until(() => synced(child, "photos"), "the first photos poll");
    sim.faults.add({ endpoint: "photos.*", kind: "hang", times: 1 });
    child.write("sync icpl.photos\n");
    await until(() => sim.faults.list().length === 0, "the change check in flight");
    await stopAndCheck(child, dir);
  }, 30_000);

  it("during a photo download: the download is cut; the .part file and the index stay as they were", async () => {
    const account = { appleId: "download@stop.example", password: "stop-password", code: "444444" };
    const sim = await startTestSimulator(account, { mfa: { kind: "none" }, photos: { count: 2, seed: 4, ...SMALL } });
    const dir = await tempDir("i2m-stop-download-");
    const library = join(dir, "library");
    const child = await host(
      sim,
      account,
      { photos: { schedule: "1h", download: { enabled: true, folder: library, structure: "none" } } },
      dir,
    );
    await until(() => synced(child, "photos"), "the first photos poll");
    const photos = findPhotosSimulator(sim.url);
    const dsid = sim.world.accounts.byAppleId(account.appleId)?.dsid ?? "";
    photos?.addPhotos(dsid, 1);
    sim.faults.add({ endpoint: "photos.download", kind: "hang" });
    child.write("sync icpl.photos\n");
    await until(() => sim.faults.list().some((f) => f.hits > 0), "the download in flight");
    await stopAndCheck(child, dir);
  }, 30_000);

  it("in process: the state folder can be removed right after a stop mid-sign-in; later commands are refused", async () => {
    const account = { appleId: "inproc@stop.example", password: "stop-password", code: "555555" };
    const sim = await startTestSimulator(account, { mfa: { kind: "none" } }, [
      { endpoint: "idmsa.signin.complete", kind: "hang" },
    ]);
    const dir = await tempDir("i2m-stop-inproc-");
    const engine = new Engine({
      accounts: [{ id: "host", username: account.appleId, password: account.password, endpoint: sim.url, ...ALL_OFF }],
      stateDir: dir,
    });
    await engine.start();
    await until(() => sim.faults.list().some((f) => f.hits > 0), "the SRP proof in flight");
    const stopping = engine.stop();
    expect(engine.stop()).toBe(stopping);
    await stopping;
    await rm(dir, { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(engine.execute("sync", {})).rejects.toMatchObject({ code: "INVALID_STATE" });
  });
});
