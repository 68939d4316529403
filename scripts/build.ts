/**
 * `npm run build` (root and each workspace package): compiles the package's `src/` to `dist/` with
 * tsc (`tsconfig.build.json`: JavaScript with `.ts` import extensions rewritten to `.js`, plus `.d.ts`
 * declarations), then copies the files the code reads at run time (every file under `src/` that is
 * neither TypeScript (`.ts`, `.cts`, `.mts`) nor a README: the web UI, simulator scenarios, Node-RED
 * editor files, ...). Finally it checks that every `new URL("./…", import.meta.url)` in the emitted
 * JavaScript points at a file or folder that exists,
 * so a run-time asset that the copy rule misses fails the build instead of an installed package.
 * For the root package it also bundles the command line (`dist/cli/main.js`) into `dist/command/`,
 * what the installed `icloud2mqtt` command runs (scripts/bundle-command.ts).
 *
 * Run from the package folder: `node scripts/build.ts` (root) or `node ../scripts/build.ts`.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleCommand, COMMAND_DIR, RELATIVE_URL_PATTERN } from "./bundle-command.ts";

const pkg = process.cwd();
const src = join(pkg, "src");
const dist = join(pkg, "dist");

/** Files of `dir`, recursively, as paths relative to it. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path, base) : [relative(base, path)];
  });
}

function isRuntimeAsset(file: string): boolean {
  const name = file.split(/[\\/]/).pop() ?? file;
  return !/\.[cm]?ts$/.test(name) && name !== "README.md";
}

/** `new URL("./x" or "../x", import.meta.url)` targets that do not exist next to the emitted file. */
function missingUrlTargets(): string[] {
  const missing: string[] = [];
  for (const file of walk(dist).filter((f) => f.endsWith(".js"))) {
    const path = join(dist, file);
    for (const match of readFileSync(path, "utf8").matchAll(RELATIVE_URL_PATTERN)) {
      const target = fileURLToPath(new URL(match[2] as string, pathToFileURL(path)));
      if (!existsSync(target)) missing.push(`dist/${file}: ${match[2]} -> ${relative(pkg, target)}`);
    }
  }
  return missing;
}

const started = performance.now();
if (!existsSync(join(pkg, "tsconfig.build.json"))) {
  console.error(`build: no tsconfig.build.json in ${pkg}`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as {
  name: string;
  dependencies?: Record<string, string>;
};
// Workspace packages build against the engine's built declarations, as users' installs do.
if (manifest.dependencies?.["icloud2mqtt"] !== undefined) {
  const engine = dirname(createRequire(join(pkg, "package.json")).resolve("icloud2mqtt/package.json"));
  if (!existsSync(join(engine, "dist", "engine", "index.d.ts"))) {
    console.error(
      `build: ${manifest.name} needs the built engine (${engine}/dist): run \`npm run build:all\` at the root`,
    );
    process.exit(1);
  }
}
rmSync(dist, { recursive: true, force: true });

// The TypeScript compiler of the repository root (workspace packages have none of their own).
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const compiled = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: pkg, stdio: "inherit" });
if (compiled.status !== 0) {
  console.error(`build: tsc failed in ${pkg} (exit ${compiled.status ?? compiled.signal})`);
  process.exit(1);
}

const assets = walk(src).filter(isRuntimeAsset);
for (const file of assets) cpSync(join(src, file), join(dist, file));

let bundled = "";
if (existsSync(join(dist, "cli", "main.js"))) {
  try {
    bundled = `, dist/${COMMAND_DIR}/ in ${(await bundleCommand(dist)).length} files`;
  } catch (error) {
    console.error(`build: bundling the command line (dist/cli/main.js -> dist/${COMMAND_DIR}/) failed:`, error);
    process.exit(1);
  }
}

const missing = missingUrlTargets();
if (missing.length > 0) {
  console.error(`build: files the code reads at run time are missing from dist/:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}

const files = walk(dist).length;
const ms = Math.round(performance.now() - started);
console.log(`build: ${manifest.name} -> dist/ (${files} files, ${assets.length} assets copied${bundled}) in ${ms} ms`);
