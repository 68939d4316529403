import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findPhotosSimulator } from "../../src/simulator/photos/index.ts";
import { engineHarness, enterCode } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const ACCOUNT: TestAccount = { appleId: "modes@example.com", password: "photo-files-password", code: "707070" };

afterEach(cleanUp);

/** Modes (permission bits) of everything under `root`, by relative path. */
async function modes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[`${path.slice(root.length + 1)}${entry.isDirectory() ? "/" : ""}`] = ((await stat(path)).mode & 0o777)
      .toString(8)
      .padStart(4, "0");
  }
  return out;
}

async function downloadWith(fileMode: string | undefined) {
  const { sim, dir, engine } = await engineHarness({
    account: ACCOUNT,
    spec: { photos: { count: 2, seed: 3 } },
    dirPrefix: "i2m-photo-files-",
    id: "modes",
    settings: (dir) => ({
      photos: {
        download: {
          enabled: true,
          folder: join(dir, "library"),
          structure: "{yyyy}/{mm}",
          live_videos: false,
          ...(fileMode === undefined ? {} : { file_mode: fileMode }),
        },
      },
      findmy: { enabled: false },
      calls: { enabled: false },
    }),
  });
  await engine.start();
  await enterCode(engine, "modes", ACCOUNT.code);
  await until(() => engine.snapshot("modes").state.services.photos.last_sync !== null, "the first sync");
  const photos = findPhotosSimulator(sim.url);
  const dsid = photos?.ctx.accounts().find((a) => a.appleId === ACCOUNT.appleId)?.dsid ?? "";
  photos?.addPhotos(dsid, 2);
  await engine.execute("sync", { data_types: ["icpl.photos"] });
  const library = join(dir, "library");
  await until(() => engine.snapshot("modes").state.services.photos.message === null, "the download");
  return modes(library);
}

describe("downloaded photos' permissions", () => {
  it("are private by default (files 0600 in 0700 folders), whatever the umask", async () => {
    const previous = process.umask(0o022);
    try {
      const found = await downloadWith(undefined);
      const files = Object.entries(found).filter(([path]) => !path.endsWith("/"));
      const folders = Object.entries(found).filter(([path]) => path.endsWith("/"));
      expect(files.length).toBeGreaterThanOrEqual(2);
      expect(folders.length).toBeGreaterThanOrEqual(2);
      for (const [path, mode] of files) expect(mode, path).toBe("0600");
      for (const [path, mode] of folders) expect(mode, path).toBe("0700");
    } finally {
      process.umask(previous);
    }
  });

  it("follow photos.download.file_mode (the group may read: 0640 files in 0750 folders)", async () => {
    const previous = process.umask(0o077);
    try {
      const found = await downloadWith("0640");
      for (const [path, mode] of Object.entries(found)) expect(mode, path).toBe(path.endsWith("/") ? "0750" : "0640");
    } finally {
      process.umask(previous);
    }
  });
});
