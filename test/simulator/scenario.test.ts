import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { accountDsid, accountFixedCode, loadScenarioFile, parseScenario } from "../../src/simulator/scenario.ts";
import { tryParseDuration as parseDuration } from "../../src/util/duration.ts";
import { TEST_SCENARIO } from "../support/idmsa-client.ts";

describe("scenario files", () => {
  it("fills defaults and parses lifetimes to milliseconds", () => {
    const scenario = parseScenario({
      accounts: [{ apple_id: "a@example.com", password: "x", lifetimes: { trust_token: "30d", validate_token: 90 } }],
    });
    expect(scenario.partition).toBe(61);
    expect(scenario.phone_list_layout).toBe("legacy");
    const [account] = scenario.accounts;
    expect(account?.srp).toEqual({ protocol: "s2k", iterations: 20064 });
    expect(account?.mfa.kind).toBe("hsa2");
    expect(account?.country).toBe("USA");
    expect(account?.lifetimes).toEqual({
      trust_token: 30 * 86_400_000,
      web_session: 30 * 86_400_000,
      validate_token: 90_000,
      session_token: 600_000,
    });
    expect(accountDsid(account!)).toMatch(/^1\d{10}$/);
    expect(accountDsid(account!)).toBe(accountDsid(account!));
  });

  it("keeps codes as strings, even when YAML made a number of them", () => {
    const scenario = parseScenario({ accounts: [{ apple_id: "a@x", password: "x", mfa: { code: 12345 } }] });
    expect(accountFixedCode(scenario.accounts[0]!)).toBe("012345");
  });

  it("rejects bad input with a readable message", () => {
    expect(() => parseScenario({ accounts: [] })).toThrow(/invalid scenario/);
    expect(() =>
      parseScenario({ accounts: [{ apple_id: "a@x", password: "x", lifetimes: { trust_token: "soon" } }] }),
    ).toThrow(/duration/);
    expect(() =>
      parseScenario({
        accounts: [
          { apple_id: "a@x", password: "x" },
          { apple_id: "A@x", password: "y" },
        ],
      }),
    ).toThrow(/duplicate/);
    expect(() => parseScenario({ accounts: [{ apple_id: "a@x", password: "x", mfa: { kind: "sms" } }] })).toThrow();
  });

  it("loads YAML and JSON files, passing service sections through", async () => {
    const yaml = await loadScenarioFile(TEST_SCENARIO);
    expect(yaml.accounts.length).toBeGreaterThan(3);
    const dir = await mkdtemp(join(tmpdir(), "sim-scenario-"));
    const file = join(dir, "s.json");
    await writeFile(
      file,
      JSON.stringify({ accounts: [{ apple_id: "j@x", password: "p", findmy: { devices: [1] }, calls: {} }] }),
    );
    const json = await loadScenarioFile(file);
    expect(json.accounts[0]?.findmy).toEqual({ devices: [1] });
    expect(json.accounts[0]?.calls).toEqual({});
    const demo = await loadScenarioFile(new URL("../../src/simulator/scenarios/demo.yaml", import.meta.url).pathname);
    expect(demo.accounts[0]?.apple_id).toBe("demo@icloud2mqtt.invalid");
  });

  it("parses durations", () => {
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2 weeks")).toBeUndefined();
  });
});
