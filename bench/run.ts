/**
 * `npm run bench`: runs every `bench/*.ts` except this file, one after the other, each in its own
 * Node process; their JSON reports go to stdout unchanged. Exits non-zero when one fails.
 */
import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";

const dir = import.meta.dirname;
const self = path.basename(import.meta.filename);
const only = process.argv.slice(2);
const scripts = (await readdir(dir, { withFileTypes: true }))
  .filter((e) => e.isFile() && e.name.endsWith(".ts") && e.name !== self)
  .map((e) => e.name)
  .filter((name) => only.length === 0 || only.some((o) => name.startsWith(o)))
  .sort();

let failed = 0;
for (const script of scripts) {
  process.stderr.write(`bench: ${script}\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, script)], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (status) => resolve(status ?? 1));
  });
  if (code !== 0) {
    failed++;
    process.stderr.write(`bench: ${script} exited with ${code}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
