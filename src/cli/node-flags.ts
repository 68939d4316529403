import { fileURLToPath } from "node:url";

/**
 * V8 settings the installed `icloud2mqtt` command runs with (see README.md, "Footprint"). Node's own
 * are made for servers with memory to spare; measured with `npm run bench` (bench/README.md):
 *
 * - `--max-semi-space-size=1`: V8 sizes its young generation from the machine's memory, up to 32 MB
 *   per semispace (64 MB in all) on a machine with 16 GB, most of it garbage between collections.
 * - `--heap-growing-percent=30`: after a full collection the heap may grow by 30 % before the next
 *   one, instead of up to 300 %: listing a large photo library stays at a flat, small size.
 * - `--liftoff-only`: WebAssembly (undici's HTTP parser) is compiled once, by the baseline compiler;
 *   by default it is compiled again by the optimizing compiler, which keeps about 15 MB.
 * - `--max-opt=0`: JavaScript runs in V8's interpreter only, never compiled to machine code (neither
 *   the baseline compiler, Sparkplug, nor the optimizing ones, Maglev and TurboFan): about 12 MB less
 *   idle (their code pages in the Node binary, their compile zones and the code they make), of which
 *   the baseline compiler is 1.5–2 MB. Find My for 20 accounts costs about 15 % more CPU than with the
 *   baseline compiler (0.36 % of a core instead of 0.3 %).
 * - `--v8-pool-size=1`: one V8 worker thread (for concurrent marking) instead of one per core.
 *
 * They cost CPU (more frequent, smaller collections, no machine code): listing 100 000 photos took
 * 22 s of CPU against 8.4 s with Node's defaults; nothing noticeable for a bridge that polls every
 * few minutes.
 */
export const LEAN_NODE_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--heap-growing-percent=30",
  "--liftoff-only",
  "--max-opt=0",
  "--v8-pool-size=1",
];

/** The flags to start Node with: `ICLOUD2MQTT_NODE_FLAGS` when set ("" = none), else the lean ones. */
export function wantedNodeFlags(env: NodeJS.ProcessEnv, execArgv: readonly string[]): string[] {
  const custom = env["ICLOUD2MQTT_NODE_FLAGS"];
  if (custom !== undefined) return custom.split(/\s+/).filter((flag) => flag !== "");
  // A setting the user gave Node (NODE_OPTIONS or node's own arguments) is kept.
  const chosen = `${env["NODE_OPTIONS"] ?? ""} ${execArgv.join(" ")}`;
  return LEAN_NODE_FLAGS.filter((flag) => !chosen.includes(flag.split("=")[0] ?? flag));
}

/**
 * Starts Node again with `wantedNodeFlags` in this process (`process.execve`: same process id,
 * stdio and signals) when they are not in effect yet, running `script` with this process's
 * arguments. Returns when nothing is to be done or this Node cannot (`process.execve` needs
 * Node ≥ 22.15 on Linux or macOS): the caller goes on with Node's defaults.
 */
export function relaunchWithNodeFlags(script: string | URL): void {
  const flags = wantedNodeFlags(process.env, process.execArgv);
  if (flags.length === 0 || flags.every((flag) => process.execArgv.includes(flag))) return;
  if (typeof process.execve !== "function" || process.platform === "win32") return;
  // glibc keeps memory freed by other threads in per-thread arenas; two arenas are plenty here.
  const env = { MALLOC_ARENA_MAX: "2", ...process.env };
  const path = typeof script === "string" ? script : fileURLToPath(script);
  const args = [...flags, ...process.execArgv, path, ...process.argv.slice(2)];
  try {
    process.execve(process.execPath, [process.execPath, ...args], env);
  } catch {
    // Refused by this system: go on with Node's defaults.
  }
}
