import { defineConfig } from "vitest/config";

/**
 * The workspace packages (nodes/, homebridge-plugin/) import the engine by name (`icloud2mqtt/engine`);
 * this export condition makes that resolve to the root package's TypeScript sources instead of the
 * built dist/, so tests need no build. Vite's own server conditions follow it (setting the list
 * replaces Vite's defaults).
 */
const SOURCE_CONDITIONS = ["icloud2mqtt-source", "module", "node", "development|production"];

export default defineConfig({
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  test: {
    include: ["test/**/*.test.ts", "nodes/test/**/*.test.ts", "homebridge-plugin/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // `expect.poll` waits for what a browser or another process does: give a busy machine time (default 1 s).
    expect: { poll: { timeout: 10_000, interval: 50 } },
    pool: "forks",
    reporters: ["default"],
  },
});
