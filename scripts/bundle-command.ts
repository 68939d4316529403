/**
 * The `icloud2mqtt` command as installed runs `dist/command/main.js`: `dist/cli/main.js` and what it
 * imports (the bridge's own modules and its npm dependencies) in a few minified files, split at the
 * dynamic imports so that a command loads only what it uses. Node keeps the source text of every
 * module it loads for as long as the process lives, and the bridge runs for months: 480 modules with
 * their comments, zod's 64 locale files and the parts of undici and zod the bridge never calls took
 * about 6 MB of the bridge's memory (bench/README.md, "footprint.ts"). The library entries
 * (`dist/index.js`, `dist/engine/`, …) stay as tsc emits them, for Node-RED, Homebridge and other
 * programs.
 *
 * Kept out of the bundle, loaded from node_modules as without it: Node's built-in modules; what the
 * code loads with `require` (mqtt.js, which src/mqtt/connect.ts loads in pieces, and
 * `transliteration`); and aedes: src/mqtt/packet-numbers.ts turns off the packet-id cache (10 MB) of
 * the mqtt-packet that mqtt.js and aedes load from node_modules, which a bundled copy would not see.
 * `new URL("./…", import.meta.url)` (the web UI, the demo scenario, package.json) is rewritten to
 * point from `dist/command/` at the same file under `dist/`.
 */
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "rolldown";

/** Where the bundle goes, under `dist/`. */
export const COMMAND_DIR = "command";

/** Packages loaded from node_modules at run time (see above). */
const EXTERNAL = /^(aedes|mqtt|mqtt-packet)(\/|$)/;

/**
 * `new URL("./x" or "../x", import.meta.url)`, with any quote (the bundle's minified code uses
 * backticks): group 1 the quote, group 2 the relative path.
 */
export const RELATIVE_URL_PATTERN = /new URL\(\s*(["'`])(\.{1,2}\/[^"'`]*)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Rewrites `new URL("./x", import.meta.url)` in modules under `dist` for code that runs from `outDir`. */
function relocateUrls(dist: string, outDir: string): Plugin {
  return {
    name: "icloud2mqtt:relocate-urls",
    transform(code, id) {
      if (!id.startsWith(dist + sep) || !code.includes("import.meta.url")) return null;
      let changed = false;
      const result = code.replace(RELATIVE_URL_PATTERN, (_whole, quote: string, target: string) => {
        const absolute = fileURLToPath(new URL(target, pathToFileURL(id)));
        let moved = relative(outDir, absolute).split(sep).join("/");
        if (!moved.startsWith(".")) moved = `./${moved}`;
        if (target.endsWith("/") && !moved.endsWith("/")) moved += "/";
        changed = true;
        return `new URL(${quote}${moved}${quote}, import.meta.url)`;
      });
      return changed ? { code: result, map: null } : null;
    },
  };
}

/** Bundles `dist/cli/main.js` into `dist/command/`; returns the files written. */
export async function bundleCommand(dist: string): Promise<string[]> {
  const outDir = join(dist, COMMAND_DIR);
  const output = await build({
    input: join(dist, "cli", "main.js"),
    platform: "node",
    external: EXTERNAL,
    logLevel: "warn",
    plugins: [relocateUrls(dist, outDir)],
    output: {
      dir: outDir,
      format: "esm",
      entryFileNames: "main.js",
      chunkFileNames: "[name]-[hash].js",
      minify: true,
      // Non-ASCII characters escaped: V8 keeps a source with any character above U+00FF as UTF-16.
      charset: "ascii",
      sourcemap: false,
    },
  });
  return output.output.map((file) => join(outDir, file.fileName));
}
