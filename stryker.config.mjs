// Stryker (mutation testing) for one module group of mutation/groups.json, chosen with
// MUTATION_GROUP; `npm run mutation` (scripts/mutation.ts) runs the groups one after another.
// Everything it writes goes under .cache/mutation/ (ignored by git).
import { readFileSync } from "node:fs";

const { groups } = JSON.parse(readFileSync(new URL("./mutation/groups.json", import.meta.url), "utf8"));
const name = process.env.MUTATION_GROUP ?? "";
const group = groups[name];
if (group === undefined) {
  throw new Error(`MUTATION_GROUP must name a group of mutation/groups.json (${Object.keys(groups).join(", ")})`);
}
const out = `.cache/mutation/${name}`;

// "vitest" (default): Stryker's vitest runner in one vitest instance per worker, running only the
// tests that reached a mutant (per-test coverage). "command": Stryker's command runner, one focused
// `vitest run <the group's tests>` per mutant with the mutant in the environment, for groups whose
// tests run the code in child processes, which the vitest runner's coverage cannot see.
const runner =
  group.runner === "command"
    ? {
        testRunner: "command",
        commandRunner: { command: `node node_modules/vitest/vitest.mjs run --reporter=dot ${group.tests.join(" ")}` },
        coverageAnalysis: "off",
      }
    : {
        testRunner: "vitest",
        vitest: { configFile: "mutation/vitest.config.mjs", related: false },
        coverageAnalysis: "perTest",
      };

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...runner,
  mutate: group.mutate,
  // No TypeScript checker, and no tsconfig for Stryker to read: TypeScript 7 no longer has the
  // compiler API (`parseConfigFileTextToJson`) that Stryker's tsconfig rewriting and its TS checker
  // call. Vitest does not type-check, so mutants that would not compile still run (and die).
  checkers: [],
  tsconfigFile: "mutation/no-tsconfig.json",
  disableTypeChecks: false,
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 10_000,
  timeoutFactor: 2,
  reporters: ["clear-text", "json", "html", "progress-append-only"],
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: false },
  jsonReporter: { fileName: `${out}/report.json` },
  htmlReporter: { fileName: `${out}/report.html` },
  tempDirName: ".cache/stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: [".cache", "coverage", "bench", "nodes", "homebridge-plugin", "*.log"],
  incremental: process.env.MUTATION_INCREMENTAL === "1",
  incrementalFile: `${out}/incremental.json`,
  thresholds: { high: 90, low: 85, break: null },
  logLevel: "info",
  fileLogLevel: "off",
};
