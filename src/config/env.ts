import { parse as parseYaml } from "yaml";
import { configJsonSchema, type JsonSchema, schemaAt, schemaTypes } from "./json-schema.ts";

/**
 * Environment overrides: `ICLOUD2MQTT_<PATH>` with `__` between levels and numbers as array indexes,
 * e.g. `ICLOUD2MQTT_MQTT__URL`, `ICLOUD2MQTT_ACCOUNTS__0__PASSWORD`, `ICLOUD2MQTT_LOG_LEVEL`.
 * Values are YAML (`true`, `60`, `null`, even `[a, b]`), except that a value is kept verbatim when the key
 * takes a string and not the parsed type: a password `123456`, `#secret` or `pass #1` stays as written.
 * Only the exact value `null` sets a key to null; an empty variable is ignored.
 */

export const ENV_PREFIX = "ICLOUD2MQTT_";
/** Variables with the prefix that are not configuration keys (read by the CLI and bin/icloud2mqtt.js). */
export const ENV_RESERVED = new Set(["ICLOUD2MQTT_CONFIG", "ICLOUD2MQTT_NODE_FLAGS"]);

export type ConfigPath = Array<string | number>;

export interface EnvOverride {
  variable: string;
  path: ConfigPath;
  value: unknown;
}

export interface EnvProblem {
  variable: string;
  path: string;
  message: string;
}

/** Overrides found in `env`, sorted so that lower array indexes come first, plus unknown variables. */
export function envOverrides(env: NodeJS.ProcessEnv): { overrides: EnvOverride[]; unknown: EnvProblem[] } {
  const overrides: EnvOverride[] = [];
  const unknown: EnvProblem[] = [];
  const names = Object.keys(env).filter((name) => name.startsWith(ENV_PREFIX) && !ENV_RESERVED.has(name));
  // The JSON Schema of the configuration (and ICU's collator) only when there is something to look up.
  if (names.length === 0) return { overrides, unknown };
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const schema = configJsonSchema();
  for (const variable of names) {
    const raw = env[variable];
    if (raw === undefined || raw === "") continue; // `VAR=` in compose files means "not set"
    const path: ConfigPath = variable
      .slice(ENV_PREFIX.length)
      .split("__")
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part.toLowerCase()));
    const node = schemaAt(schema, path);
    if (node === undefined) {
      unknown.push({
        variable,
        path: path.join("."),
        message: `${variable} does not name a configuration key; ignored`,
      });
      continue;
    }
    overrides.push({ variable, path, value: envValue(raw, node) });
  }
  return { overrides, unknown };
}

/** Applies the overrides to a raw (unvalidated) configuration object, creating missing levels. */
export function applyEnvOverrides(raw: Record<string, unknown>, overrides: readonly EnvOverride[]): EnvProblem[] {
  const problems: EnvProblem[] = [];
  for (const { variable, path, value } of overrides) {
    let container: Record<string, unknown> | unknown[] = raw;
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1;
      const nextSegment = path[index + 1];
      if (typeof segment === "number") {
        if (!Array.isArray(container) || segment > container.length) {
          const size = Array.isArray(container) ? container.length : 0;
          problems.push({
            variable,
            path: path.join("."),
            message: `${variable}: index ${segment} leaves a gap (only ${size} entries before it)`,
          });
          break;
        }
      }
      const record = container as Record<string | number, unknown>;
      if (last) {
        record[segment] = value;
        break;
      }
      const wantArray = typeof nextSegment === "number";
      const current = record[segment];
      const fits = wantArray ? Array.isArray(current) : isRecord(current);
      if (!fits) record[segment] = wantArray ? [] : {};
      container = record[segment] as Record<string, unknown> | unknown[];
    }
  }
  return problems;
}

function envValue(raw: string, node: JsonSchema): unknown {
  const accepted = schemaTypes(node);
  const takesString = accepted.has("string");
  if (raw.trim() === "null") return null;
  let parsed: unknown;
  try {
    parsed = parseYaml(raw);
  } catch {
    return raw;
  }
  // YAML would turn `#secret` or `~` into null and cut `pass #1` at the comment: strings stay verbatim.
  if (takesString && (typeof parsed === "string" || parsed === null)) return raw;
  if (accepted.size === 0 || accepts(accepted, parsed)) return parsed;
  return takesString ? raw : parsed;
}

function accepts(types: Set<string>, value: unknown): boolean {
  if (value === null) return types.has("null");
  if (Array.isArray(value)) return types.has("array");
  if (typeof value === "number") return types.has("number") || (types.has("integer") && Number.isInteger(value));
  if (typeof value === "object") return types.has("object");
  return types.has(typeof value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
