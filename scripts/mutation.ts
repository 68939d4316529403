/**
 * `npm run mutation [-- group...] [--report-only]`: mutation testing (Stryker) over the module groups
 * of mutation/groups.json, one group after another, then a score per module. Survivors listed in
 * mutation/equivalent.json with a reason (`kind` "equivalent": the program behaves the same;
 * "unobservable": it does not, but no test can see it, e.g. an fsync) are counted apart; any other
 * survivor is printed with its place and fails the run, as does a module under 85 % once the listed
 * mutants are set aside.
 *
 *   MUTATION_CONCURRENCY=1   Stryker workers (default 2)
 *   MUTATION_INCREMENTAL=1   reuse the previous results of unchanged code and tests
 *
 * Reports: .cache/mutation/<group>/report.{json,html} (ignored by git). `--markdown` prints the table
 * as the README's "Mutation testing" section shows it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TARGET = 85;

const GroupsSchema = z.object({
  groups: z.record(
    z.string(),
    z.object({
      mutate: z.array(z.string()),
      tests: z.array(z.string()),
      runner: z.enum(["vitest", "command"]).optional(),
    }),
  ),
});
const EquivalentSchema = z.array(
  z.object({
    file: z.string(),
    mutator: z.string(),
    /** The mutated source text, exactly as in the file. */
    original: z.string(),
    replacement: z.string(),
    /** Text of the line the mutant starts on, when `original` alone is ambiguous in the file. */
    context: z.string().optional(),
    kind: z.enum(["equivalent", "unobservable"]).default("equivalent"),
    reason: z.string().min(10),
  }),
);
const Position = z.object({ line: z.number(), column: z.number() });
const ReportSchema = z.object({
  files: z.record(
    z.string(),
    z.object({
      source: z.string(),
      mutants: z.array(
        z.object({
          id: z.string(),
          mutatorName: z.string(),
          replacement: z.string().optional(),
          status: z.string(),
          location: z.object({ start: Position, end: Position }),
        }),
      ),
    }),
  ),
});
type Report = z.infer<typeof ReportSchema>;
type Equivalent = z.infer<typeof EquivalentSchema>[number];

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(new URL(path, `file://${ROOT}`), "utf8"));
}

/** The source text a mutant replaced (Stryker's lines and columns are 1-based). */
function originalText(source: string, location: Report["files"][string]["mutants"][number]["location"]): string {
  const lines = source.split("\n");
  const offset = (p: z.infer<typeof Position>) =>
    lines.slice(0, p.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + p.column - 1;
  return source.slice(offset(location.start), offset(location.end));
}

const oneLine = (text: string, max = 70) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

interface Row {
  file: string;
  killed: number;
  survived: number;
  equivalent: number;
  unobservable: number;
  score: number;
  adjusted: number;
}

function summarise(group: string, report: Report, equivalents: Equivalent[], used: Set<Equivalent>) {
  const rows: Row[] = [];
  const unexplained: string[] = [];
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    let killed = 0;
    let survived = 0;
    let equivalent = 0;
    let unobservable = 0;
    for (const mutant of mutants) {
      if (mutant.status === "Killed" || mutant.status === "Timeout") killed++;
      else if (mutant.status === "Survived" || mutant.status === "NoCoverage") {
        survived++;
        const original = originalText(source, mutant.location);
        const line = source.split("\n")[mutant.location.start.line - 1] ?? "";
        const known = equivalents.find(
          (e) =>
            e.file === file &&
            e.mutator === mutant.mutatorName &&
            e.original === original &&
            e.replacement === (mutant.replacement ?? "") &&
            (e.context === undefined || line.includes(e.context)),
        );
        if (known) {
          if (known.kind === "equivalent") equivalent++;
          else unobservable++;
          used.add(known);
        } else {
          const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
          unexplained.push(
            `  ${where} ${mutant.mutatorName} (${mutant.status}): ${oneLine(original)} → ${oneLine(mutant.replacement ?? "")}`,
          );
        }
      }
    }
    const valid = killed + survived;
    rows.push({
      file,
      killed,
      survived,
      equivalent,
      unobservable,
      score: valid === 0 ? 100 : (100 * killed) / valid,
      adjusted: valid === equivalent + unobservable ? 100 : (100 * killed) / (valid - equivalent - unobservable),
    });
  }
  return { group, rows, unexplained };
}

function runStryker(group: string): boolean {
  console.log(`\n=== mutation testing: ${group} ===`);
  const bin = fileURLToPath(new URL("node_modules/@stryker-mutator/core/bin/stryker.js", `file://${ROOT}`));
  const result = spawnSync(process.execPath, [bin, "run", "stryker.config.mjs"], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, MUTATION_GROUP: group },
  });
  return result.status === 0;
}

function main(): number {
  const args = process.argv.slice(2);
  const reportOnly = args.includes("--report-only");
  const { groups } = GroupsSchema.parse(readJson("mutation/groups.json"));
  const equivalents = EquivalentSchema.parse(readJson("mutation/equivalent.json"));
  const chosen = args.filter((arg) => !arg.startsWith("--"));
  for (const name of chosen) {
    if (!(name in groups)) throw new Error(`unknown group ${name} (known: ${Object.keys(groups).join(", ")})`);
  }
  const names = chosen.length > 0 ? chosen : Object.keys(groups);
  const failedRuns: string[] = [];
  if (!reportOnly) for (const name of names) if (!runStryker(name)) failedRuns.push(name);

  const used = new Set<Equivalent>();
  const summaries = [];
  for (const name of names) {
    const path = `.cache/mutation/${name}/report.json`;
    if (!existsSync(new URL(path, `file://${ROOT}`))) {
      failedRuns.push(`${name} (no report)`);
      continue;
    }
    summaries.push(summarise(name, ReportSchema.parse(readJson(path)), equivalents, used));
  }

  if (args.includes("--markdown")) {
    console.log(
      "\n| group | module | mutants | killed | equivalent | unobservable | other survivors | score | without listed |",
    );
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const { group, rows } of summaries) {
      for (const r of rows) {
        const other = r.survived - r.equivalent - r.unobservable;
        console.log(
          `| ${group} | \`${r.file}\` | ${r.killed + r.survived} | ${r.killed} | ${r.equivalent} | ${r.unobservable} | ${other} | ${r.score.toFixed(1)} % | ${r.adjusted.toFixed(1)} % |`,
        );
      }
    }
  }
  console.log("\n=== mutation scores (killed / (killed + survived + no coverage); timeouts count as killed) ===\n");
  console.log(
    "group          module                                   killed  survived  equivalent  unobservable   score  w/o listed",
  );
  let below = 0;
  for (const { group, rows } of summaries) {
    for (const row of rows) {
      if (row.adjusted < TARGET) below++;
      console.log(
        `${group.padEnd(14)} ${row.file.padEnd(40)} ${String(row.killed).padStart(7)} ${String(row.survived).padStart(9)} ${String(row.equivalent).padStart(11)} ${String(row.unobservable).padStart(13)} ${row.score.toFixed(1).padStart(6)}% ${row.adjusted.toFixed(1).padStart(10)}%`,
      );
    }
  }
  const unexplained = summaries.flatMap((s) => s.unexplained);
  if (unexplained.length > 0) {
    console.log(
      `\n${unexplained.length} surviving mutant(s) neither killed nor listed in mutation/equivalent.json:\n${unexplained.join("\n")}`,
    );
  }
  const stale = equivalents.filter((e) => names.some((n) => groups[n]?.mutate.includes(e.file)) && !used.has(e));
  if (stale.length > 0 && !reportOnly) {
    console.log(`\nmutation/equivalent.json entries no mutant matched any more (remove them):`);
    for (const e of stale) console.log(`  ${e.file} ${e.mutator}: ${oneLine(e.original)} → ${oneLine(e.replacement)}`);
  }
  if (failedRuns.length > 0) console.log(`\nStryker failed for: ${failedRuns.join(", ")}`);
  if (below > 0) console.log(`\n${below} module(s) under ${TARGET} % without the listed mutants.`);
  return failedRuns.length > 0 || below > 0 || unexplained.length > 0 ? 1 : 0;
}

process.exitCode = main();
