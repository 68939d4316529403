import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkConfig, dumpConfig, formatConfigCheck } from "../../src/config/check.ts";
import {
  configJsonSchema,
  type JsonSchema,
  REDACTED,
  redactConfig,
  schemaLeafPaths,
} from "../../src/config/json-schema.ts";
import { loadConfigDetailed, resolveConfig } from "../../src/config/load.ts";

const exampleFile = fileURLToPath(new URL("../../config.example.yaml", import.meta.url));
const exampleText = readFileSync(exampleFile, "utf8");
const env = { HOME: "/home/test" };

describe("config.example.yaml", () => {
  it("loads without errors or warnings", async () => {
    const { config, warnings } = await loadConfigDetailed({ file: exampleFile, env });
    expect(warnings).toEqual([]);
    expect(config.accounts[0]?.id).toBe("jane");
  });

  it("mentions every leaf key of the schema, each with a comment", () => {
    const lines = exampleText.split("\n");
    const leaves = schemaLeafPaths();
    expect(leaves.length).toBeGreaterThan(50);
    const missing: string[] = [];
    const uncommented: string[] = [];
    for (const leaf of leaves) {
      // Find each level in order (push → enabled), so repeated names like `enabled` map to their own section.
      let index = -1;
      for (const segment of leaf.replaceAll("[]", "").split(".")) {
        const pattern = new RegExp(`^\\s*(#\\s*)?(- )?${segment}:`);
        const found = lines.findIndex((line, i) => i > index && pattern.test(line));
        index = found;
        if (found < 0) break;
      }
      if (index < 0) {
        missing.push(leaf);
        continue;
      }
      const line = lines[index] ?? "";
      const previous = lines[index - 1] ?? "";
      if (!line.trimStart().startsWith("#") && !/\s#\s/.test(line) && !previous.trimStart().startsWith("#")) {
        uncommented.push(leaf);
      }
    }
    expect(missing).toEqual([]);
    expect(uncommented).toEqual([]);
  });
});

describe("JSON Schema", () => {
  const schema = configJsonSchema();

  function walk(node: JsonSchema, path: string, visit: (node: JsonSchema, path: string) => void): void {
    const properties = node["properties"] as Record<string, JsonSchema> | undefined;
    for (const [key, child] of Object.entries(properties ?? {})) {
      visit(child, `${path}${key}`);
      walk(child, `${path}${key}.`, visit);
    }
    const items = node["items"] as JsonSchema | undefined;
    if (items && typeof items === "object") walk(items, `${path}[].`, visit);
    for (const variant of (node["anyOf"] as JsonSchema[] | undefined) ?? []) walk(variant, path, visit);
  }

  it("describes every key", () => {
    const undocumented: string[] = [];
    walk(schema, "", (node, path) => {
      if (typeof node["description"] !== "string") undocumented.push(path);
    });
    expect(undocumented).toEqual([]);
    expect(schema["title"]).toBe("icloud2mqtt configuration");
  });

  it("carries defaults and keeps defaulted keys optional", () => {
    const properties = schema["properties"] as Record<string, JsonSchema>;
    expect(properties["log_level"]).toMatchObject({ default: "info", enum: ["debug", "info", "warn", "error"] });
    const mqtt = properties["mqtt"] as JsonSchema;
    expect((mqtt["properties"] as Record<string, JsonSchema>)["keepalive"]).toMatchObject({ default: 60 });
    expect(schema["required"]).toEqual(["accounts"]);
    const account = (properties["accounts"] as JsonSchema)["items"] as JsonSchema;
    expect(account["required"]).toEqual(["id", "username"]);
    expect(schema["additionalProperties"]).toBe(false);
  });

  it("also generates draft-7 for Homebridge's form generator", () => {
    const draft7 = configJsonSchema({ target: "draft-7" });
    expect(draft7["$schema"]).toBe("http://json-schema.org/draft-07/schema#");
    expect(draft7["properties"]).toEqual(schema["properties"]);
  });

  it("returns a fresh copy each call", () => {
    const first = configJsonSchema();
    first["title"] = "changed";
    expect(configJsonSchema()["title"]).toBe("icloud2mqtt configuration");
  });
});

describe("redaction and config check", () => {
  const secrets = { account: "apple-pw-4711", mqtt: "mqtt-pw-4712", token: "http-token-4713", url: "url-pw-4714" };

  async function configWithSecrets() {
    const raw = {
      accounts: [{ id: "jane", username: "jane@example.com", password: secrets.account }],
      mqtt: { password: secrets.mqtt, username: "bridge", url: "mqtts://bridge:url-pw-4714@broker:8883" },
      http: { auth_token: secrets.token },
    };
    return (await resolveConfig(raw, { env, cwd: "/" })).config;
  }

  it("redacts every secret from dumps", async () => {
    const config = await configWithSecrets();
    const redacted = redactConfig(config);
    expect(redacted.accounts[0]?.password).toBe(REDACTED);
    expect(redacted.mqtt.password).toBe(REDACTED);
    expect(redacted.http.auth_token).toBe(REDACTED);
    expect(redacted.mqtt.username).toBe("bridge");
    expect(redacted.mqtt.url).toBe(`mqtts://bridge:${REDACTED}@broker:8883`);
    expect(config.mqtt.password).toBe(secrets.mqtt);
    const dump = `${JSON.stringify(redacted)}\n${dumpConfig(config)}`;
    for (const secret of Object.values(secrets)) expect(dump).not.toContain(secret);
  });

  it("formats a passing check with warnings and a redacted dump", async () => {
    const result = await checkConfig({
      file: exampleFile,
      env: { ...env, ICLOUD2MQTT_ACCOUNTS__0__PASSWORD: secrets.account, ICLOUD2MQTT_PHOTOS: "x" },
    });
    expect(result.ok).toBe(true);
    const text = formatConfigCheck(result);
    expect(text).toMatch(/^Configuration OK: .*config\.example\.yaml/);
    expect(text).toContain("warning photos: ICLOUD2MQTT_PHOTOS does not name a configuration key");
    expect(text).toContain(`password: "${REDACTED}"`);
    expect(text).not.toContain(secrets.account);
  });

  it("formats a failing check without throwing", async () => {
    const result = await checkConfig({ env: { ...env, ICLOUD2MQTT_LOG_LEVEL: "loud" } });
    expect(result.ok).toBe(false);
    const text = formatConfigCheck(result);
    expect(text).toContain("Configuration INVALID: defaults and environment (no file)");
    expect(text).toContain("error   accounts: at least one account is required");
    expect(text).toMatch(/error {3}log_level: .*\(from ICLOUD2MQTT_LOG_LEVEL\)/);
  });
});
