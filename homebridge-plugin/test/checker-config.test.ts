import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HOMEBRIDGE_PACKAGES, loadHomebridge, startInstance } from "./support/homebridge.ts";

/** What Homebridge's plugin checker starts the plugin with: nothing to do, and nothing written. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each(HOMEBRIDGE_PACKAGES)("$label with the checker's configurations", (pkg) => {
  it("does nothing with {platform} alone or an invalid block, and writes no file", async () => {
    const modules = await loadHomebridge(pkg);
    const dir = await mkdtemp(join(tmpdir(), "i2m-hb-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    modules.User.setStoragePath(dir);
    const bare = await startInstance(modules, {});
    expect(bare.platform.accessories).toEqual([]);
    expect(bare.log.lines).toEqual([
      "info not configured yet: add an iCloud account in the plugin's settings and sign in there",
    ]);
    const invalid = await startInstance(modules, { accounts: [{ id: "Not An Id", username: "x" }], pulse_seconds: 0 });
    expect(invalid.log.lines).toEqual([
      expect.stringMatching(
        /^error the configuration is invalid, so the plugin does nothing: accounts\.0\.id: .*; pulse_seconds: /,
      ),
    ]);
    bare.api.signalShutdown();
    invalid.api.signalShutdown();
    await Promise.all([bare.platform.shutdown(), invalid.platform.shutdown()]);
    expect(await readdir(dir)).toEqual([]);
  });
});
