/**
 * The package as users get it: `npm pack` of the engine and of this package (each `prepack` builds
 * dist/), both tarballs installed into a temporary Node-RED user folder, and real Node-RED processes
 * (5.0.x or 4.1.x, from this package's devDependencies) started on that folder, on 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RuntimePackage } from "./red-runtime.ts";
import { onCleanup, tempDir } from "./world.ts";

const require = createRequire(import.meta.url);
const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const ENGINE_DIR = dirname(require.resolve("icloud2mqtt/package.json"));
/** npm and the programs it runs use this process's Node (Node ≥ 22), as a user's PATH would. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}` };
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let output = "";
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(" ")} in ${cwd}: ${signal ?? `exit ${code}`}\n${output}`));
    });
  });
}

/** `npm pack --json` output: lifecycle scripts (prepack) print before the JSON array. */
function packedFile(stdout: string): string {
  const start = stdout.lastIndexOf("\n[");
  const list = JSON.parse(stdout.slice(start === -1 ? stdout.indexOf("[") : start + 1)) as Array<{ filename: string }>;
  const first = list[0];
  if (first === undefined) throw new Error(`npm pack reported nothing:\n${stdout}`);
  return first.filename;
}

/**
 * Packs the engine and this package and installs both into a new Node-RED user folder (the engine
 * first, so npm never asks the registry for the unpublished engine). Returns the folder.
 */
export async function installPackedPackage(): Promise<string> {
  const work = await tempDir("i2m-node-red-pack-");
  const engine = packedFile(await run(npm, ["pack", "--json", "--pack-destination", work], ENGINE_DIR));
  const nodes = packedFile(await run(npm, ["pack", "--json", "--pack-destination", work], PACKAGE_DIR));
  const userDir = join(work, "user");
  await mkdir(userDir);
  await writeFile(join(userDir, "package.json"), JSON.stringify({ name: "node-red-project", private: true }));
  const install = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
  await run(npm, [...install, join(work, engine)], userDir);
  await run(npm, [...install, join(work, nodes)], userDir);
  return userDir;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface NodeRedProcess {
  readonly url: string;
  output(): string;
  /** Resolves with the first output line matching, or rejects after `timeoutMs` or when the process ends. */
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM; resolves with how long the process took to exit. */
  stop(): Promise<number>;
}

export interface NodeRedOptions {
  runtime: RuntimePackage;
  userDir: string;
  /** More settings.js keys (JSON). */
  settings: Record<string, unknown>;
}

/** Starts `node-red -u <userDir> -s <settings>` on a free port; stopped at cleanup. */
export async function startNodeRed(options: NodeRedOptions): Promise<NodeRedProcess> {
  const port = await freePort();
  const name = options.runtime === "node-red" ? "5" : "4";
  const settingsFile = join(options.userDir, `settings-${name}.cjs`);
  const settings = {
    uiHost: "127.0.0.1",
    uiPort: port,
    flowFile: `flows-${name}.json`,
    credentialSecret: "a-test-secret-for-flows-cred",
    editorTheme: { tours: false },
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: "info" } },
    ...options.settings,
  };
  await writeFile(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const red = join(dirname(require.resolve(`${options.runtime}/package.json`)), "red.js");
  const child: ChildProcess = spawn(process.execPath, [red, "-u", options.userDir, "-s", settingsFile], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of [...waiters]) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const wake of [...waiters]) wake();
  });
  const handle: NodeRedProcess = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    waitFor: (pattern, what, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${what}\n${output}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const check = () => {
          const match = output.match(pattern);
          if (match) finish(() => resolve(match));
          else if (ended) finish(() => reject(new Error(`Node-RED ended before ${what}\n${output}`)));
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      const started = Date.now();
      if (!ended) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(killer);
      }
      return Date.now() - started;
    },
  };
  onCleanup(async () => void (await handle.stop()));
  await handle.waitFor(/Started flows/, "Node-RED to start its flows", 60_000);
  return handle;
}
