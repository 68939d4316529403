import { z } from "zod";
import { ConfigSchema } from "./schema.ts";

/**
 * JSON Schema generated from the zod schema (never kept by hand), and redaction for dumps.
 * `node src/config/json-schema.ts > config.schema.json` writes the schema file.
 */

export type JsonSchema = { [key: string]: unknown };

let cached: JsonSchema | undefined;

/**
 * The configuration's JSON Schema (draft 2020-12). Input view: keys with a default are optional and
 * carry `default`; every key carries `description`. Cross-field checks are not expressible and stay in zod.
 * Returns a fresh copy each call.
 */
export function configJsonSchema(options: { target?: "draft-2020-12" | "draft-7" } = {}): JsonSchema {
  const target = options.target ?? "draft-2020-12";
  const generate = () => ({
    ...z.toJSONSchema(ConfigSchema, { io: "input", target, unrepresentable: "any" }),
    title: "icloud2mqtt configuration",
  });
  if (target !== "draft-2020-12") return generate();
  cached ??= generate();
  return structuredClone(cached);
}

/** The JSON types a schema node accepts: "string", "number", "integer", "boolean", "null", "array", "object". */
export function schemaTypes(node: JsonSchema): Set<string> {
  const types = new Set<string>();
  const type = node["type"];
  if (typeof type === "string") types.add(type);
  if (Array.isArray(type)) for (const t of type) if (typeof t === "string") types.add(t);
  if ("const" in node) types.add(jsonType(node["const"]));
  const enumValues = node["enum"];
  if (Array.isArray(enumValues)) for (const value of enumValues) types.add(jsonType(value));
  for (const variant of variants(node)) for (const t of schemaTypes(variant)) types.add(t);
  return types;
}

/** The schema node at `path` (object keys and array indexes), or undefined when the path does not exist. */
export function schemaAt(root: JsonSchema, path: ReadonlyArray<string | number>): JsonSchema | undefined {
  let candidates: JsonSchema[] = [root];
  for (const segment of path) {
    const next: JsonSchema[] = [];
    for (const node of candidates.flatMap((c) => [c, ...variants(c)])) {
      const properties = asSchema(node["properties"]);
      const items = asSchema(node["items"]);
      if (typeof segment === "string" && properties && Object.hasOwn(properties, segment)) {
        const child = asSchema(properties[segment]);
        if (child) next.push(child);
      }
      if (typeof segment === "number" && items) next.push(items);
    }
    if (next.length === 0) return undefined;
    candidates = next;
  }
  return candidates.length === 1 ? candidates[0] : { anyOf: candidates };
}

/** Every leaf key path of the schema (`accounts[].findmy.home.latitude`), for docs and drift tests. */
export function schemaLeafPaths(node: JsonSchema = configJsonSchema(), prefix = ""): string[] {
  const paths: string[] = [];
  let hasChildren = false;
  for (const candidate of [node, ...variants(node)]) {
    const properties = asSchema(candidate["properties"]);
    const items = asSchema(candidate["items"]);
    if (properties) {
      hasChildren = true;
      for (const [key, child] of Object.entries(properties)) {
        const childSchema = asSchema(child);
        if (childSchema) paths.push(...schemaLeafPaths(childSchema, prefix ? `${prefix}.${key}` : key));
      }
    }
    if (items && (asSchema(items["properties"]) || variants(items).length > 0)) {
      const nested = schemaLeafPaths(items, `${prefix}[]`);
      if (nested.some((p) => p !== `${prefix}[]`)) {
        hasChildren = true;
        paths.push(...nested.filter((p) => p !== `${prefix}[]`));
      }
    }
  }
  if (!hasChildren && prefix) paths.push(prefix);
  return [...new Set(paths)];
}

export const REDACTED = "[redacted]";
const SECRET_KEYS = new Set(["password", "auth_token", "token", "secret"]);

/**
 * A deep copy with every secret (password, auth_token, and the password in `scheme://user:password@host`
 * URLs) replaced by "[redacted]". Safe to log or publish.
 */
export function redactConfig<T>(config: T): T {
  return redact(config) as T;
}

const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]*@/i;

function redact(value: unknown): unknown {
  if (typeof value === "string") return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key) && child !== null && child !== undefined ? REDACTED : redact(child);
  }
  return out;
}

function variants(node: JsonSchema): JsonSchema[] {
  const list = [node["anyOf"], node["oneOf"], node["allOf"]].flatMap((v) => (Array.isArray(v) ? v : []));
  return list.map(asSchema).filter((v): v is JsonSchema => v !== undefined);
}

function asSchema(value: unknown): JsonSchema | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
