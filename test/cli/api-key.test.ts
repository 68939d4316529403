import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { KeyStore } from "../../src/ricloud-api/key-store.ts";
import { cleanUp, tempDir } from "../support/harness.ts";
import { REPO_ROOT } from "../support/processes.ts";

afterEach(cleanUp);

const run = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ["src/cli/main.ts", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ICLOUD2MQTT_CONFIG: "", ICLOUD2MQTT_STATE_DIR: "", ...env },
  });

describe("icloud2mqtt api-key", () => {
  it("create prints a key once, list shows its prefix, revoke disables it", async () => {
    const dir = await tempDir("i2m-api-key-");
    const created = await run(["api-key", "create", "--name", "home assistant", "--state-dir", dir]);
    const token = created.stdout.trim();
    expect(token).toMatch(/^ric_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain("Created API key 1 (home assistant)");
    const store = new KeyStore(dir);
    expect(await store.verify(token)).toMatchObject({ id: "1", name: "home assistant" });

    const listed = await run(["api-key", "list", "--state-dir", dir]);
    expect(listed.stdout).toContain(`1\t${token.slice(0, 10)}…\thome assistant\t`);
    expect(listed.stdout).toContain("\tactive");
    expect(listed.stdout).not.toContain(token);

    const revoked = await run(["api-key", "revoke", token.slice(0, 10), "--state-dir", dir]);
    expect(revoked.stdout).toContain("revoked key 1");
    expect(await store.verify(token)).toBeNull();
    expect((await run(["api-key", "list", "--state-dir", dir])).stdout).toContain("\trevoked ");
    await expect(run(["api-key", "revoke", "9", "--state-dir", dir])).rejects.toMatchObject({
      stderr: expect.stringContaining("NOT_FOUND"),
    });
  });

  it("finds the state folder in the configuration", async () => {
    const dir = await tempDir("i2m-api-key-config-");
    const config = join(dir, "config.yaml");
    await writeFile(config, `state_dir: ./state\naccounts:\n  - id: a\n    username: a@example.com\n`);
    const created = await run(["api-key", "create", "--config", config]);
    expect(await new KeyStore(join(dir, "state")).verify(created.stdout.trim())).not.toBeNull();
  });
});
