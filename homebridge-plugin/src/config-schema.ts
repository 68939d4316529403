import { writeFileSync } from "node:fs";
import { z } from "zod";
import { PluginConfigSchema } from "./config.ts";
import { PLATFORM_NAME } from "./names.ts";

/**
 * `config.schema.json` for the Homebridge UI, generated from the plugin's zod schema (`config.ts`),
 * never kept by hand: `npm run schema -w homebridge-plugin` rewrites it, and a test fails when the
 * committed file differs from what this returns.
 *
 * The JSON Schema is zod's (draft-07, the input view: keys with a default are optional and carry it),
 * adapted to what the Homebridge form renders: no `$schema`; a nullable field becomes its non-null
 * form without the `null` default (an empty field means "not set"); a field taking a string or a
 * number (schedules, durations) is a string field; a choice between shapes (`findmy.locate`: "none",
 * "all" or a list) shows its first shape (the list is written in the JSON editor); an optional object
 * (`findmy.home`) gets no defaults inside, so the form does not create it half-filled. Unknown keys
 * stay allowed at the top level, where Homebridge keeps `platform` and `_bridge`. Every field gets a
 * title made from its key.
 */

export type JsonObject = { [key: string]: unknown };

export function homebridgeConfigSchema(): JsonObject {
  const generated = z.toJSONSchema(PluginConfigSchema, {
    io: "input",
    target: "draft-07",
    unrepresentable: "any",
  }) as JsonObject;
  const { $schema: _draft, additionalProperties: _extra, ...schema } = adapt(generated) as JsonObject;
  return {
    pluginAlias: PLATFORM_NAME,
    pluginType: "platform",
    singular: true,
    customUi: true,
    customUiPath: "./dist/homebridge-ui",
    headerDisplay:
      "Apple Find My devices, people at home and iCloud events in HomeKit. Sign in to iCloud (with the two-factor code) in this plugin's settings.",
    footerDisplay:
      "Embedded mode keeps its iCloud session in the Homebridge storage folder (icloud2mqtt/). Connected mode uses a running icloud2mqtt over MQTT.",
    schema,
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNullSchema(value: unknown): boolean {
  return isObject(value) && value["type"] === "null";
}

function adapt(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(adapt);
  if (!isObject(node)) return node;
  let out: JsonObject = { ...node };
  const choices = out["anyOf"] ?? out["oneOf"];
  if (Array.isArray(choices)) {
    const shapes = choices.filter((c) => !isNullSchema(c));
    const nullable = shapes.length < choices.length;
    const { anyOf: _a, oneOf: _o, ...rest } = out;
    const first = shapes[0];
    out = { ...(isObject(first) ? first : {}), ...rest };
    if (nullable && out["default"] === null) delete out["default"];
    if (nullable && out["type"] === "object") out = withoutDefaults(out);
  }
  const type = out["type"];
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    out["type"] = types.includes("string") ? "string" : types[0];
  }
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(out)) {
    if (key === "properties" && isObject(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, titled(k, adapt(v))]));
    } else if (key === "items" || key === "additionalProperties") {
      result[key] = adapt(value);
    } else result[key] = value;
  }
  return result;
}

/** A form label from the key (`low_battery_percent` → "Low battery percent") unless the schema has one. */
function titled(key: string, node: unknown): unknown {
  if (!isObject(node) || typeof node["title"] === "string") return node;
  const words = key.replace(/_/g, " ");
  return { title: `${words.charAt(0).toUpperCase()}${words.slice(1)}`, ...node };
}

function withoutDefaults(node: JsonObject): JsonObject {
  const properties = node["properties"];
  if (!isObject(properties)) return node;
  const stripped = Object.fromEntries(
    Object.entries(properties).map(([key, child]) => {
      if (!isObject(child)) return [key, child];
      const { default: _d, ...rest } = child;
      return [key, rest];
    }),
  );
  return { ...node, properties: stripped };
}

/** The file's text as committed (two-space JSON plus a newline). */
export function homebridgeConfigSchemaText(): string {
  return `${JSON.stringify(homebridgeConfigSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  const text = homebridgeConfigSchemaText();
  if (process.argv.includes("--write")) writeFileSync(new URL("../config.schema.json", import.meta.url), text);
  else process.stdout.write(text);
}
