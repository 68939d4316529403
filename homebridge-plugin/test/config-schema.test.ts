import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parsePluginConfig } from "../src/config.ts";
import { homebridgeConfigSchema, homebridgeConfigSchemaText } from "../src/config-schema.ts";
import initialize, { PLATFORM_NAME } from "../src/index.ts";

const committed = readFileSync(new URL("../config.schema.json", import.meta.url), "utf8");

/** Every `required` in the schema, with its path (Homebridge's checker wants arrays, at object level). */
function requireds(node: unknown, path = "schema"): Array<[string, unknown]> {
  if (typeof node !== "object" || node === null) return [];
  const own: Array<[string, unknown]> = "required" in node ? [[path, (node as { required: unknown }).required]] : [];
  return [
    ...own,
    ...Object.entries(node).flatMap(([key, child]) => (key === "required" ? [] : requireds(child, `${path}.${key}`))),
  ];
}

describe("config.schema.json", () => {
  it("is the file generated from the zod schema (npm run schema -w homebridge-plugin)", () => {
    // Compared as JSON: the committed file is formatted by Biome.
    expect(JSON.parse(committed)).toEqual(JSON.parse(homebridgeConfigSchemaText()));
  });

  it("passes the checks of Homebridge's plugin checker", () => {
    const file = JSON.parse(committed) as ReturnType<typeof homebridgeConfigSchema> & {
      schema: { type: string; properties: Record<string, unknown> };
    };
    // pluginAlias is the name the plugin registers.
    const names: string[] = [];
    initialize({ registerPlatform: (name) => names.push(name) });
    expect(names).toEqual([PLATFORM_NAME]);
    expect(file).toMatchObject({
      pluginAlias: PLATFORM_NAME,
      pluginType: "platform",
      singular: true,
      customUi: true,
      customUiPath: "./dist/homebridge-ui",
    });
    expect(file.schema.type).toBe("object");
    expect(Object.keys(file.schema.properties.name as object).length).toBeGreaterThan(0);
    for (const [path, required] of requireds(file.schema)) {
      expect(Array.isArray(required), `${path}.required must be an array`).toBe(true);
    }
    // Compiles with AJV as the checker does (draft-07, strict off, all errors).
    const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    const validate = ajv.compile(file.schema);
    expect(validate({ platform: PLATFORM_NAME })).toBe(true);
    const config = {
      platform: PLATFORM_NAME,
      name: "iCloud",
      accounts: [{ id: "jane", username: "jane@example.com", findmy: { home: { latitude: 52.1, longitude: 4.3 } } }],
      low_battery_percent: 15,
      _bridge: { username: "0E:11:22:33:44:55", port: 51000 },
    };
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(parsePluginConfig(config).accounts[0]?.findmy.home).toEqual({ latitude: 52.1, longitude: 4.3, radius: 100 });
    expect(validate({ ...config, mode: "both" })).toBe(false);
  });

  it("shows fields the Homebridge form can render: titles, single types, no null branches", () => {
    const text = JSON.stringify(homebridgeConfigSchema().schema);
    expect(text).not.toContain('"type":"null"');
    expect(text).not.toContain('"anyOf"');
    expect(text).not.toContain("$schema");
    const schema = homebridgeConfigSchema().schema as { properties: Record<string, { title?: string }> };
    expect(schema.properties["low_battery_percent"]?.title).toBe("Low battery percent");
  });
});
