#!/usr/bin/env node
// The `icloud2mqtt` command of an installed package (`npm install -g icloud2mqtt`, `npx icloud2mqtt`):
// it runs the compiled JavaScript in dist/, because Node does not strip TypeScript types inside
// node_modules: dist/command/main.js, the command line bundled with its dependencies in a few minified
// files (scripts/bundle-command.ts; a long-running bridge keeps less in memory). In a git checkout,
// run `npm run build` first, or start the sources directly with `node src/cli/main.ts` (what
// `npm start` and `scripts/run` do).
//
// It first starts Node again with V8 settings for a small, long-running process (dist/cli/node-flags.js,
// README.md "Footprint"); ICLOUD2MQTT_NODE_FLAGS replaces them ("" = Node's defaults).
import { existsSync } from "node:fs";

const main = new URL("../dist/command/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("icloud2mqtt: dist/ is missing; run `npm run build` or start `node src/cli/main.ts`\n");
  process.exit(1);
}
const { relaunchWithNodeFlags } = await import(new URL("../dist/cli/node-flags.js", import.meta.url).href);
relaunchWithNodeFlags(new URL(import.meta.url));
await import(main.href);
