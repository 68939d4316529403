/**
 * `npm run pack-check` (and `scripts/run test`): proves the packages work as users install them.
 *
 * Packs the root package and the workspace packages (`npm pack`, so `prepack` builds dist/), installs
 * the tarballs the way users do into a temporary folder whose path holds a space (`npm install -g`
 * into a prefix, and as dependencies of an empty project; everything else comes from the npm
 * registry or its cache), then checks, with the Node running this script:
 * - the tarballs hold dist/ and no TypeScript sources;
 * - `icloud2mqtt --help` and `--version` (the bundled command line, dist/command/);
 * - `icloud2mqtt demo` on free ports: the simulated iPhone shows a code, the web UI is served, the
 *   code sent to the HTTP API signs the account in;
 * - `import("icloud2mqtt")`, `"icloud2mqtt/engine"`, `"icloud2mqtt/testing"` (a simulator starts),
 *   `"icloud2mqtt/remote"` and
 *   the workspace packages, which share the one installed engine;
 * - a TypeScript consumer typechecks against the shipped declarations.
 * Stops at the first failure with the command's output; exit code 1. `--keep` keeps the folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WORKSPACES = ["nodes", "homebridge-plugin"];
const keep = process.argv.includes("--keep");
/** Installed programs run with this script's Node (scripts/run's Node 24), as a user's PATH would. */
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env["PATH"] ?? ""}` };
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

class CheckFailed extends Error {}

const NODE_RED_TYPES = ["icloud-account", "icloud-device", "icloud-events", "icloud-action", "icloud-mfa"];
/**
 * What a workspace package needs besides its entry point: Node-RED's node files, editor files, help and
 * examples; the files Homebridge reads by path.
 */
const EXTRA_FILES: Record<string, string[]> = {
  "homebridge-icloud2mqtt": [
    "config.schema.json",
    "dist/homebridge-ui/server.js",
    "dist/homebridge-ui/public/index.html",
  ],
  "node-red-contrib-icloud2mqtt": [
    "LICENSE",
    ...NODE_RED_TYPES.flatMap((type) => [
      `dist/nodes/${type}.cjs`,
      `dist/nodes/${type}.js`,
      `dist/nodes/${type}.html`,
      `dist/nodes/locales/en-US/${type}.json`,
      `dist/nodes/locales/en-US/${type}.html`,
    ]),
    "examples/Find My devices and actions.json",
    "examples/Code, calls and photos.json",
  ],
};

interface RunResult {
  stdout: string;
  stderr: string;
}

/** How long an `npm install` of the tarballs may take (it may fetch the registry's metadata of every dependency). */
const INSTALL_TIMEOUT_MS = 600_000;

/** Runs a command to its end; a non-zero exit fails the check with the command's output. */
function run(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          new CheckFailed(
            `\`${command} ${args.join(" ")}\` in ${cwd} ended with ${signal ?? `exit code ${code}`}\n${stdout}${stderr}`,
          ),
        );
    });
  });
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new CheckFailed(message);
}

let checks = 0;
async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await action();
  checks++;
  console.log(`pack check: ok   ${name} (${Math.round(performance.now() - started)} ms)`);
  return result;
}

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: Array<{ path: string }>;
}

/** `npm pack --json` output; lifecycle scripts (prepack) may print before the JSON array. */
function packResults(stdout: string): PackResult[] {
  const start = stdout.lastIndexOf("\n[");
  return JSON.parse(stdout.slice(start === -1 ? stdout.indexOf("[") : start + 1)) as PackResult[];
}

function checkTarball(pack: PackResult, required: string[]): void {
  const files = new Set(pack.files.map((f) => f.path));
  const missing = required.filter((f) => !files.has(f));
  expect(missing.length === 0, `${pack.filename} lacks ${missing.join(", ")}`);
  const sources = [...files].filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
  expect(sources.length === 0, `${pack.filename} ships TypeScript sources: ${sources.slice(0, 5).join(", ")}`);
  const stray = [...files].filter((f) => /^(src|test|scripts|\.cache|node_modules)\//.test(f));
  expect(stray.length === 0, `${pack.filename} ships ${stray.slice(0, 5).join(", ")}`);
}

/** Starts `icloud2mqtt demo`, collecting its output; `waitFor` resolves on the first line matching. */
function startDemo(bin: string, stateDir: string) {
  const child: ChildProcess = spawn(
    bin,
    ["demo", "--mqtt-port", "0", "--http-port", "0", "--sim-port", "0", "--state-dir", stateDir],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) {
      const match = output.match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code ?? "?")),
  );
  return {
    output: () => output,
    exited,
    waitFor(pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const seen = output.match(pattern);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          clearTimeout(timer);
          reject(new CheckFailed(`demo: ${why} before ${what}; output:\n${output}`));
        };
        const timer = setTimeout(() => fail(`${timeoutMs / 1000} s passed`), timeoutMs);
        void exited.then((how) => fail(`ended (${how})`));
        waiters.push({
          pattern,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    async stop(): Promise<number | string> {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

/** Node code run inside the consumer project (so bare imports resolve from its node_modules). */
async function nodeIn(project: string, name: string, code: string): Promise<string> {
  const file = join(project, `${name}.mjs`);
  await writeFile(file, code);
  return (await run(process.execPath, [file], project, 60_000)).stdout.trim();
}

async function main(): Promise<void> {
  const started = performance.now();
  const rootPkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const work = await mkdtemp(join(tmpdir(), "icloud2mqtt pack-check "));
  console.log(`pack check: Node ${process.version}, npm packages in ${work}`);
  let failed = true;
  try {
    const tarballs = await step("npm pack (prepack builds dist/)", async () => {
      const root = packResults((await run(npm, ["pack", "--json", "--pack-destination", work], ROOT)).stdout);
      const workspaceArgs = WORKSPACES.flatMap((w) => ["--workspace", w]);
      const ws = packResults(
        (await run(npm, ["pack", "--json", "--pack-destination", work, ...workspaceArgs], ROOT)).stdout,
      );
      const [main] = root;
      expect(main !== undefined && main.name === "icloud2mqtt", "npm pack did not report the root package");
      expect(ws.length === WORKSPACES.length, `npm pack packed ${ws.length} workspace packages`);
      return { main: main as PackResult, workspaces: ws };
    });

    await step("tarball contents", async () => {
      checkTarball(tarballs.main, [
        "package.json",
        "README.md",
        "bin/icloud2mqtt.js",
        "config.example.yaml",
        "dist/cli/main.js",
        "dist/command/main.js",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/engine/index.js",
        "dist/engine/index.d.ts",
        "dist/testing/index.js",
        "dist/testing/index.d.ts",
        "dist/remote/index.js",
        "dist/remote/index.d.ts",
        "dist/http/ui/state.html",
        "dist/simulator/scenarios/demo.yaml",
      ]);
      for (const pack of tarballs.workspaces) {
        checkTarball(pack, [
          "package.json",
          "README.md",
          "dist/index.js",
          "dist/index.d.ts",
          ...(EXTRA_FILES[pack.name] ?? []),
        ]);
      }
    });

    const all = [tarballs.main, ...tarballs.workspaces].map((p) => join(work, p.filename));
    const install = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
    const prefix = join(work, "global");
    const project = join(work, "project");
    await step("npm install -g (a prefix) and into an empty project", async () => {
      await mkdir(project);
      await writeFile(
        join(project, "package.json"),
        `${JSON.stringify({ name: "pack-check", private: true, type: "module" }, null, 2)}\n`,
      );
      // The engine first, then the workspace packages: their `icloud2mqtt@^0.1.0` is then already met,
      // so npm never asks the registry about the unpublished name. Global and project at once (npm's
      // cache is safe to share).
      // On a machine whose npm cache holds the packages but not the registry's metadata for them
      // (`npm ci` fetched only tarballs), npm asks the registry about every dependency first: minutes
      // when the registry is slow, hence the longer limit.
      const [engine, ...workspaces] = all as [string, ...string[]];
      await Promise.all([
        run(npm, ["install", "--global", "--prefix", prefix, ...install, engine], work, INSTALL_TIMEOUT_MS),
        run(npm, ["install", ...install, engine], project, INSTALL_TIMEOUT_MS).then(() =>
          run(npm, ["install", ...install, ...workspaces], project, INSTALL_TIMEOUT_MS),
        ),
      ]);
    });

    const bin = process.platform === "win32" ? join(prefix, "icloud2mqtt.cmd") : join(prefix, "bin", "icloud2mqtt");
    await step("icloud2mqtt --help, --version", async () => {
      const help = (await run(bin, ["--help"], work)).stdout;
      expect(/Usage: icloud2mqtt/.test(help) && /\bdemo\b/.test(help), `unexpected --help output:\n${help}`);
      const version = (await run(bin, ["--version"], work)).stdout.trim();
      expect(version === rootPkg.version, `--version printed "${version}", package.json has ${rootPkg.version}`);
    });

    await step("icloud2mqtt demo: code shown, web UI served, code accepted", async () => {
      const demo = startDemo(bin, join(work, "demo state"));
      try {
        const [, code] = await demo.waitFor(/device shows code (\d{6})/, '"device shows code"');
        const [, http] = await demo.waitFor(/web UI listening on (http:\/\/[^\s"/]+)/, "HTTP listening line");
        const page = await fetch(`${http}/`);
        const html = await page.text();
        expect(page.status === 200 && html.includes("<html"), `GET / answered ${page.status}: ${html.slice(0, 200)}`);
        const css = await fetch(`${http}/style.css`);
        expect(css.status === 200, `GET /style.css answered ${css.status}`);
        const mfa = await fetch(`${http}/api/mfa?account=demo&code=${code}`, { method: "POST" });
        expect(mfa.status === 200, `POST /api/mfa answered ${mfa.status}: ${await mfa.text()}`);
        const deadline = Date.now() + 30_000;
        for (;;) {
          const state = (await (await fetch(`${http}/api/state?account=demo`)).json()) as {
            session?: { state?: string };
          };
          if (state.session?.state === "active") break;
          expect(Date.now() < deadline, `the demo account did not sign in: ${JSON.stringify(state)}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        const how = await demo.stop();
        expect(how === 0, `demo did not stop cleanly on SIGTERM (${how}); output:\n${demo.output()}`);
      }
    });

    await step('import "icloud2mqtt", "icloud2mqtt/engine", "icloud2mqtt/testing", "icloud2mqtt/remote"', async () => {
      const out = await nodeIn(
        project,
        "imports",
        `import assert from "node:assert/strict";
const root = await import("icloud2mqtt");
const engine = await import("icloud2mqtt/engine");
const testing = await import("icloud2mqtt/testing");
const remote = await import("icloud2mqtt/remote");
const { default: pkg } = await import("icloud2mqtt/package.json", { with: { type: "json" } });
for (const [name, where] of [["icloud2mqtt", "dist/index.js"], ["icloud2mqtt/engine", "dist/engine/index.js"], ["icloud2mqtt/testing", "dist/testing/index.js"], ["icloud2mqtt/remote", "dist/remote/index.js"]]) {
  assert.ok(import.meta.resolve(name).endsWith("/node_modules/icloud2mqtt/" + where), import.meta.resolve(name));
}
assert.equal(typeof engine.Engine, "function");
assert.equal(root.Engine, engine.Engine);
assert.equal(typeof root.startBridge, "function");
assert.equal(typeof root.loadConfig, "function");
assert.equal(typeof engine.isEngineError, "function");
assert.equal(typeof remote.RemoteEngine, "function");
assert.equal(typeof testing.FakeEngine, "function");
assert.equal(pkg.version, ${JSON.stringify(rootPkg.version)});
const sim = await testing.startSimulator({
  port: 0,
  services: [...testing.SIMULATOR_SERVICES],
  scenario: testing.parseScenario({ accounts: [{ apple_id: "pack@example.com", password: "pack-check" }] }),
});
const reply = await fetch(sim.url + "/");
await sim.close();
console.log("Engine", engine.Engine.name, "simulator answered", reply.status);
`,
      );
      expect(/^Engine Engine simulator answered \d{3}$/.test(out), `unexpected output: ${out}`);
    });

    await step("import the workspace packages (one shared engine)", async () => {
      const out = await nodeIn(
        project,
        "workspaces",
        `import assert from "node:assert/strict";
import { EngineError } from "icloud2mqtt/engine";
import { accountStatus } from "node-red-contrib-icloud2mqtt";
import initialize, { describeError, PLUGIN_NAME } from "homebridge-icloud2mqtt";
assert.equal(PLUGIN_NAME, "homebridge-icloud2mqtt");
// Homebridge's entry: the default export registers the platform named in config.schema.json.
const { default: schema } = await import("homebridge-icloud2mqtt/config.schema.json", { with: { type: "json" } });
const platforms = [];
initialize({ registerPlatform: (name) => platforms.push(name) });
assert.deepEqual(platforms, [schema.pluginAlias]);
// One engine copy: the plugin recognises the consumer's EngineError instead of wrapping it.
assert.equal(describeError(new EngineError("NETWORK", "offline")), "NETWORK: offline (retrying)");
const status = accountStatus({
  account: "a", state: "ready", timestamp: 0, nextSync: null, prevError: null, prevTrigger: null,
  progressMsg: null, progress: null,
  session: { state: "active", error: null, error_info: null, trust_expires_at: null },
  services: {},
});
assert.deepEqual(status, { fill: "green", shape: "dot", text: "ready" });
// Node-RED 4 require()s each node file listed in package.json; each registers its type.
const { createRequire } = await import("node:module");
const nodesDir = new URL("./node_modules/node-red-contrib-icloud2mqtt/", import.meta.url);
const { default: manifest } = await import(new URL("package.json", nodesDir), { with: { type: "json" } });
const nodeTypes = [];
const noop = () => {};
const RED = {
  nodes: { registerType: (type) => nodeTypes.push(type), createNode: noop, getNode: () => null },
  httpAdmin: { get: noop, post: noop },
  auth: { needsPermission: () => noop },
  comms: { publish: noop },
  settings: {},
  util: { cloneMessage: (msg) => msg },
  log: { debug: noop, info: noop, warn: noop, error: noop },
  version: () => "4.1.15",
};
const { fileURLToPath } = await import("node:url");
for (const file of Object.values(manifest["node-red"].nodes)) {
  const path = fileURLToPath(new URL(file, nodesDir));
  await createRequire(path)(path)(RED);
}
assert.deepEqual(nodeTypes, ${JSON.stringify(NODE_RED_TYPES)});
console.log("workspaces ok");
`,
      );
      expect(out === "workspaces ok", `unexpected output: ${out}`);
    });

    await step("TypeScript consumer typechecks against the shipped declarations", async () => {
      await writeFile(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "nodenext",
            target: "es2023",
            lib: ["es2023"],
            strict: true,
            noEmit: true,
            types: ["node"],
            typeRoots: [join(ROOT, "node_modules", "@types")],
          },
          include: ["consumer.ts"],
        }),
      );
      await writeFile(
        join(project, "consumer.ts"),
        `import { type Config, ConfigSchema, startBridge } from "icloud2mqtt";
import { type AccountState, Engine, type EngineApi, EngineError } from "icloud2mqtt/engine";
import { type SimulatorHandle, startSimulator } from "icloud2mqtt/testing";
import { accountStatus, type NodeStatus } from "node-red-contrib-icloud2mqtt";
import { batteryValues } from "homebridge-icloud2mqtt";

export function make(config: Config): EngineApi {
  return new Engine({ accounts: config.accounts, stateDir: config.state_dir });
}
export async function located(engine: EngineApi): Promise<string[]> {
  const { devices } = await engine.execute("locate", { device: "Jane's iPhone" });
  return devices.map((device) => device.name);
}
export const status = (state: AccountState): NodeStatus => accountStatus(state);
export const error: EngineError = new EngineError("NETWORK", "offline");
export const parse = ConfigSchema.parse;
export type Start = typeof startBridge | typeof startSimulator | typeof batteryValues;
export type Sim = SimulatorHandle;
// The declarations are real types, not any:
// @ts-expect-error Engine needs its options
new Engine();
// @ts-expect-error not an error code
new EngineError("NO_SUCH_CODE", "x");
// @ts-expect-error not a command
void make(parse({ accounts: [] })).execute("no_such_command", {});
`,
      );
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      await run(process.execPath, [tsc, "-p", project], project);
    });
    failed = false;
  } finally {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (keep) console.log(`pack check: kept ${work}`);
    else await rm(work, { recursive: true, force: true });
    if (!failed) console.log(`pack check: passed (${checks} checks in ${seconds} s)`);
  }
}

try {
  await main();
} catch (error) {
  console.error(`pack check: FAILED ${error instanceof CheckFailed ? error.message : String(error)}`);
  if (!(error instanceof CheckFailed) && error instanceof Error && error.stack) console.error(error.stack);
  process.exitCode = 1;
}
