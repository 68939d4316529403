import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { LEAN_NODE_FLAGS, wantedNodeFlags } from "../../src/cli/node-flags.ts";
import { cleanUp, tempDir } from "../support/harness.ts";
import { REPO_ROOT } from "../support/processes.ts";

afterEach(cleanUp);

describe("wantedNodeFlags", () => {
  it("gives the lean flags by default", () => {
    expect(wantedNodeFlags({}, [])).toEqual([
      "--max-semi-space-size=1",
      "--heap-growing-percent=30",
      "--liftoff-only",
      "--max-opt=0",
      "--v8-pool-size=1",
    ]);
  });

  it("keeps a setting the user gave Node (arguments or NODE_OPTIONS)", () => {
    expect(wantedNodeFlags({ NODE_OPTIONS: "--max-opt=3" }, ["--max-semi-space-size=16"])).toEqual([
      "--heap-growing-percent=30",
      "--liftoff-only",
      "--v8-pool-size=1",
    ]);
  });

  it("takes ICLOUD2MQTT_NODE_FLAGS instead, an empty one meaning Node's defaults", () => {
    expect(wantedNodeFlags({ ICLOUD2MQTT_NODE_FLAGS: " --max-old-space-size=64  --max-opt=2 " }, [])).toEqual([
      "--max-old-space-size=64",
      "--max-opt=2",
    ]);
    expect(wantedNodeFlags({ ICLOUD2MQTT_NODE_FLAGS: "" }, [])).toEqual([]);
  });
});

describe("relaunchWithNodeFlags", () => {
  /** Runs a script that relaunches itself, with this process's environment minus Node's and the bridge's flags. */
  const { ICLOUD2MQTT_NODE_FLAGS: _flags, NODE_OPTIONS: _options, ...base } = process.env;
  const report = async (env: Record<string, string>, args: string[] = []) => {
    const dir = await tempDir("node-flags-");
    const script = join(dir, "report.ts");
    const module = pathToFileURL(join(REPO_ROOT, "src/cli/node-flags.ts")).href;
    await writeFile(
      script,
      `import { relaunchWithNodeFlags } from ${JSON.stringify(module)};\n` +
        "relaunchWithNodeFlags(new URL(import.meta.url));\n" +
        "process.stdout.write(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, " +
        "arena: process.env.MALLOC_ARENA_MAX ?? null, argv: process.argv.slice(2) }));\n",
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], {
      encoding: "utf8",
      env: { ...base, ...env },
    });
    return JSON.parse(stdout) as { execArgv: string[]; arena: string | null; argv: string[] };
  };

  it.skipIf(process.platform === "win32" || typeof process.execve !== "function")(
    "starts the script again with the flags, its arguments and two malloc arenas",
    async () => {
      const lean = await report({}, ["run", "--config", "x.yaml"]);
      expect(lean.execArgv.slice(0, LEAN_NODE_FLAGS.length)).toEqual([...LEAN_NODE_FLAGS]);
      expect(lean.argv).toEqual(["run", "--config", "x.yaml"]);
      expect(lean.arena).toBe(process.env["MALLOC_ARENA_MAX"] ?? "2");
    },
  );

  it("runs on with Node's defaults when ICLOUD2MQTT_NODE_FLAGS is empty", async () => {
    const plain = await report({ ICLOUD2MQTT_NODE_FLAGS: "" }, ["status"]);
    expect(plain.execArgv.filter((flag) => LEAN_NODE_FLAGS.includes(flag))).toEqual([]);
    expect(plain.argv).toEqual(["status"]);
  });
});
