import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { AccountSummary } from "../../src/engine/api.ts";
import { appleDeviceDiscovery } from "../../src/engine/services/findmy/mqtt-discovery.ts";
import { bridgeDiscovery } from "../../src/mqtt/discovery/bridge-device.ts";
import { composeAccountDiscovery, loadMqttViews } from "../../src/mqtt/service-views.ts";
import { Topics } from "../../src/mqtt/topics.ts";
import { device, FINDMY_ONLY, summary } from "../support/mqtt.ts";

const BIOME = fileURLToPath(new URL("../../node_modules/@biomejs/biome/bin/biome", import.meta.url));
const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "golden", "mqtt");

/** JSON with keys sorted at every level, two-space indent, trailing newline. */
function stable(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(JSON.parse(JSON.stringify(value))), null, 2)}\n`;
}

/**
 * Compares with test/golden/mqtt/<name>.json, keys and key order included (whitespace is left to
 * the formatter); `UPDATE_GOLDEN=1` rewrites the file instead.
 */
function expectGolden(name: string, value: unknown): void {
  const file = join(GOLDEN_DIR, `${name}.json`);
  const actual = stable(value);
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(file)) {
    if (process.env["CI"] !== undefined && process.env["UPDATE_GOLDEN"] !== "1")
      throw new Error(`missing golden ${file}`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    // Keep the files as the formatter wants them, so `biome check .` stays clean.
    execFileSync(process.execPath, [BIOME, "format", "--write", file], { stdio: "ignore" });
  }
  const golden: unknown = JSON.parse(readFileSync(file, "utf8"));
  expect(JSON.parse(actual)).toEqual(golden);
  expect(JSON.stringify(JSON.parse(actual))).toBe(JSON.stringify(golden));
}

const topics = new Topics("icloud2mqtt", "homeassistant");
const views = await loadMqttViews();
const accountDiscovery = (account: AccountSummary) =>
  composeAccountDiscovery({ topics, version: "0.1.0" }, account, views);

describe("Home Assistant discovery payloads (golden)", () => {
  it("Apple device (with a home configured)", () => {
    const jane = {
      ...device("AbC+dEf/123==", "Jane’s iPhone"),
      slug: "janes_iphone",
      at_home: true,
      home_distance: 12,
    };
    expectGolden("apple-device", appleDeviceDiscovery(topics, "0.1.0", "acct1", jane));
  });

  it("account with every service", () => {
    expectGolden("account-all-services", accountDiscovery(summary("acct1")));
  });

  it("account with only Find My leaves the other services' entities out", () => {
    const payload = accountDiscovery(summary("family", FINDMY_ONLY));
    for (const key of ["latest_photo", "call", "next_event", "birthdays_today", "notes_count", "note"])
      expect(Object.keys(payload.cmps)).not.toContain(key);
    expectGolden("account-findmy-only", payload);
  });

  it("bridge", () => {
    expectGolden("bridge", bridgeDiscovery(topics, "0.1.0"));
  });

  it("every component has p, unique_id, a domain-qualified default_entity_id and no object_id", () => {
    const payloads = [
      appleDeviceDiscovery(topics, "0.1.0", "acct1", device("d1", "iPad")),
      accountDiscovery(summary("acct1")),
      bridgeDiscovery(topics, "0.1.0"),
    ];
    const ids = new Set<string>();
    for (const payload of payloads) {
      expect(payload.origin.name).toBe("icloud2mqtt");
      for (const [key, cmp] of Object.entries(payload.cmps)) {
        expect(cmp.default_entity_id).toMatch(new RegExp(`^${cmp.p}\\.[a-z0-9_]+$`));
        expect(cmp.unique_id.endsWith(`_${key}`)).toBe(true);
        expect(cmp).not.toHaveProperty("object_id");
        expect(ids.has(cmp.unique_id)).toBe(false);
        ids.add(cmp.unique_id);
      }
    }
  });
});
