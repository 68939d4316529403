/**
 * `icloud2mqtt photos download` as a real process against the simulator: exit codes, the dry run,
 * a complete download, and kill -9 at random points with restarts: in the end every asset exactly
 * once, byte for byte, and no `.part` left.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ICloudSession } from "../../src/icloud/session.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { sessionsDir } from "../../src/icloud/state-dir.ts";
import { createPhotosRoutes, findPhotosSimulator, type PhotosSimulator } from "../../src/simulator/photos/index.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { startSim } from "../support/harness.ts";
import { expectMirrored, listFiles } from "../support/photos-library.ts";
import { killAll, spawnNode } from "../support/processes.ts";

const APPLE_ID = "cli@example.com";
const PASSWORD = "cli download password";

let sim: SimulatorHandle | undefined;
let dir: string | undefined;
afterEach(async () => {
  await killAll();
  await sim?.close();
  sim = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

interface World {
  sim: SimulatorHandle;
  control: PhotosSimulator;
  dsid: string;
  dir: string;
  stateDir: string;
  configFile: string;
  library: string;
  indexFile: string;
  visible: () => string[];
  cli: (...args: string[]) => ReturnType<typeof spawnNode>;
}

async function world(photos: Record<string, unknown>, options: { signIn?: boolean } = {}): Promise<World> {
  sim = await startSim(
    parseScenario({
      accounts: [
        {
          apple_id: APPLE_ID,
          password: PASSWORD,
          srp: { protocol: "s2k", iterations: 1000 },
          mfa: { kind: "none" },
          photos,
        },
      ],
    }),
    { services: [createPhotosRoutes], closeAtCleanup: false },
  );
  dir = await mkdtemp(join(tmpdir(), "i2m-cli-photos-"));
  const stateDir = join(dir, "state");
  const library = join(dir, "library");
  if (options.signIn !== false) {
    // The session a `login` would have stored.
    const session = await ICloudSession.open({
      username: APPLE_ID,
      password: PASSWORD,
      endpoint: sim.url,
      store: new SessionStore(sessionsDir(stateDir)),
    });
    expect((await session.signIn()).state).toBe("active");
    await session.close();
  }
  const configFile = join(dir, "config.yaml");
  const config = {
    state_dir: stateDir,
    accounts: [
      {
        id: "jane",
        username: APPLE_ID,
        endpoint: sim.url,
        findmy: { enabled: false },
        calls: { enabled: false },
        photos: { download: { folder: library, structure: "{yyyy}", live_videos: true, concurrency: 2 } },
      },
    ],
  };
  await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const control = findPhotosSimulator(sim.url);
  const dsid = control?.ctx.accounts()[0]?.dsid;
  if (!control || !dsid) throw new Error("no photos simulator");
  const s = sim;
  return {
    sim: s,
    control,
    dsid,
    dir,
    stateDir,
    configFile,
    library,
    indexFile: join(stateDir, "downloads", "jane.json"),
    visible: () => control.visiblePhotos(dsid).map((p) => p.assetRecordName),
    cli: (...args) => spawnNode(["src/cli/main.ts", "photos", "download", "--config", configFile, ...args]),
  };
}

const LIBRARY = {
  count: 16,
  seed: 31,
  live_photo_ratio: 0.3,
  video_ratio: 0.1,
  raw_ratio: 0.1,
  hidden_count: 1,
  hostile_filenames: true,
  original_size: { min: 60_000, max: 240_000 },
};

describe("icloud2mqtt photos download", () => {
  it("exit codes: 2 without a usable session or with an unknown account, 0 for a dry run (nothing written), a download and a rerun; 1 on failures", async () => {
    const w = await world(LIBRARY);
    const unknown = w.cli("--account", "bob");
    expect(await unknown.exited).toBe(2);
    expect(unknown.lines.join("\n")).toMatch(/unknown account "bob"; configured: jane/);

    const dry = w.cli("--dry-run");
    expect(await dry.exited).toBe(0);
    expect(dry.lines.join("\n")).toMatch(
      new RegExp(`would download ${w.visible().length} photos \\(\\d+ files, [\\d.]+ [kM]B\\)`),
    );
    expect(await listFiles(w.library)).toEqual([]);

    const full = w.cli("--account", "jane");
    expect(await full.exited).toBe(0);
    expect(full.lines.join("\n")).toMatch(new RegExp(`^${w.visible().length} downloaded \\(\\d+ files`, "m"));
    await expectMirrored({ ...w, expected: w.visible() });

    const again = w.cli();
    expect(await again.exited).toBe(0);
    expect(again.lines.join("\n")).toMatch(
      new RegExp(`^0 downloaded .*, ${w.visible().length} already there, 0 failed`, "m"),
    );

    // Downloads that fail: reported by name, exit 1; the folder keeps nothing half-written.
    w.control.addPhotos(w.dsid, 2);
    w.sim.faults.add({ endpoint: "photos.download", kind: "status", status: 500 });
    const failing = w.cli();
    expect(await failing.exited).toBe(1);
    expect(failing.lines.filter((l) => l.startsWith("failed: "))).toHaveLength(2);
    expect((await listFiles(w.library)).filter((f) => f.endsWith(".part"))).toEqual([]);
  }, 30_000);

  it("refuses to start without a stored session (never signs in itself)", async () => {
    const w = await world({ count: 2 }, { signIn: false });
    const run = w.cli();
    expect(await run.exited).toBe(2);
    expect(run.lines.join("\n")).toMatch(
      /no usable stored session for cli@example\.com .*icloud2mqtt login --username cli@example\.com/,
    );
    expect(w.sim.requests().filter((r) => r.route?.startsWith("idmsa.signin") === true)).toEqual([]);
  });

  it("killed with SIGKILL at random points ten times, then run to the end: every asset once, byte for byte, no .part", async () => {
    const w = await world({ ...LIBRARY, count: 14, hostile_filenames: false });
    // Slow downloads a little, so that kills land in the middle of files.
    w.sim.faults.add({ endpoint: "photos.download", kind: "latency", delay_ms: 25 });
    let random = 0x2545f491;
    const next = () => {
      random = (random * 1103515245 + 12345) >>> 0;
      return random / 2 ** 32;
    };
    for (let round = 0; round < 10; round++) {
      const run = w.cli();
      await run.waitFor(/^\d+\/\d+ /, "the first progress line", 20_000).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 250)));
      run.kill("SIGKILL");
      await run.exited;
    }
    w.sim.faults.clear();
    const last = w.cli();
    expect(await last.exited).toBe(0);
    await expectMirrored({ ...w, expected: w.visible() });
  }, 60_000);
});
