// The vitest configuration of one mutation group (MUTATION_GROUP): the project's, with only the
// group's test files. Stryker's own `testFiles` option is not used: with it, Stryker 10 activates
// mutants in module-level code (static mutants) only after the modules were loaded, so they survive.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import base from "../vitest.config.ts";

const { groups } = JSON.parse(readFileSync(new URL("./groups.json", import.meta.url), "utf8"));
const group = groups[process.env.MUTATION_GROUP ?? ""];
if (group === undefined) throw new Error("MUTATION_GROUP must name a group of mutation/groups.json");

export default {
  ...base,
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: { ...base.test, include: group.tests },
};
