/**
 * JSON as ricloud's published curl examples write it. Their bodies carry two slips that strict
 * JSON refuses: a comma before a closing `}` or `]`, and a missing comma between two members on
 * separate lines (`"password": "…"` newline `"code": "…"`). Bodies are parsed strictly first; only
 * when that fails are exactly these two slips repaired (outside strings) and the result parsed
 * strictly again, so nothing else that is not JSON gets through.
 */
export function parseRelaxedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const repaired = repair(text);
    if (repaired === text) throw error;
    return JSON.parse(repaired);
  }
}

/** Ends of a value: a string's closing quote, `}`, `]`, a digit, or the last letter of true/false/null. */
function endsValue(char: string): boolean {
  return char === '"' || char === "}" || char === "]" || /[0-9el]/.test(char);
}

function repair(text: string): string {
  let out = "";
  let inString = false;
  let escaped = false;
  /** The last character outside strings that was not whitespace (`"` once a string closed). */
  let last = "";
  let lastComma = -1;
  /** Whether the last comma followed a value (only such a comma is a trailing one). */
  let commaAfterValue = false;
  let newline = false;
  for (const char of text) {
    if (inString) {
      out += char;
      if (escaped) escaped = false;
      else if (char === "\\") escaped = true;
      else if (char === '"') {
        inString = false;
        last = '"';
      }
      continue;
    }
    if (/\s/.test(char)) {
      if (char === "\n") newline = true;
      out += char;
      continue;
    }
    if ((char === "}" || char === "]") && last === "," && commaAfterValue) {
      out = out.slice(0, lastComma) + out.slice(lastComma + 1);
    } else if (char === '"' && newline && endsValue(last)) {
      out = `${out.trimEnd()},${out.slice(out.trimEnd().length)}`;
    }
    newline = false;
    if (char === ",") {
      lastComma = out.length;
      commaAfterValue = endsValue(last);
    }
    out += char;
    if (char === '"') inString = true;
    else last = char;
  }
  return out;
}
