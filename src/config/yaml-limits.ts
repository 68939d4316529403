/**
 * Cheap checks before a configuration file is parsed: a hostile or broken file (megabytes of
 * `[[[[…` or of ever deeper indentation) would keep the YAML parser busy for tens of seconds or
 * overflow its stack. A real configuration is a few kilobytes and about six levels deep.
 */

/** Largest configuration file read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Deepest `[`/`{` nesting accepted. */
export const MAX_FLOW_DEPTH = 32;
/** Widest indentation (spaces plus compact `- ` entries) accepted at the start of a line. */
export const MAX_INDENT = 128;

/** A description of why `text` is refused before parsing, or undefined when it may be parsed. */
export function yamlShapeProblem(text: string): string | undefined {
  let depth = 0;
  let quote: '"' | "'" | undefined;
  let lineStart = true;
  let indent = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line += 1;
      lineStart = true;
      indent = 0;
      // A quoted scalar may span lines; plain YAML keeps bracket depth across lines too.
      continue;
    }
    if (lineStart && quote === undefined) {
      if (c === " ") {
        indent += 1;
      } else if (c === "-" && text[i + 1] === " ") {
        indent += 2;
        i += 1;
      } else {
        lineStart = false;
      }
      if (indent > MAX_INDENT) return `line ${line} is indented more than ${MAX_INDENT} columns`;
      if (lineStart) continue;
    }
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote opens a quoted scalar only at the start of one (after space, `:`, `[`, `{`, `,` or `-`).
      const before = text[i - 1];
      if (before === undefined || /[\s:[{,-]/.test(before)) quote = c;
    } else if (c === "#") {
      const before = text[i - 1];
      if (before === undefined || /\s/.test(before)) {
        const end = text.indexOf("\n", i);
        i = (end === -1 ? text.length : end) - 1;
      }
    } else if (c === "[" || c === "{") {
      depth += 1;
      if (depth > MAX_FLOW_DEPTH) return `line ${line} nests collections deeper than ${MAX_FLOW_DEPTH} levels`;
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth -= 1;
    }
  }
  return undefined;
}
