import { describe, expect, it } from "vitest";
import { isCronExpression, shortestGapMs } from "../../src/config/schedule.ts";
import { ConfigSchema, parseDuration, parseSchedule } from "../../src/config/schema.ts";

const account = { id: "jane", username: "jane@example.com" };

function issues(input: unknown): string[] {
  const result = ConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("config schema defaults", () => {
  it("fills every default from a minimal config", () => {
    const config = ConfigSchema.parse({ accounts: [account] });
    expect(config.log_level).toBe("info");
    expect(config.state_dir).toBe("~/.icloud2mqtt");
    expect(config.mqtt).toMatchObject({ url: null, base_topic: "icloud2mqtt", discovery_prefix: "homeassistant" });
    expect(config.mqtt.embedded_broker).toEqual({ host: "127.0.0.1", port: 1883 });
    expect(config.http).toMatchObject({ enabled: true, host: "127.0.0.1", port: 8723, base_path: "/" });
    expect(config.http.map).toEqual({
      tiles: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      attribution: "© OpenStreetMap contributors",
    });
    expect(config.push).toEqual({ enabled: true, subject: null });
    const [first] = config.accounts;
    expect(first?.findmy).toEqual({
      enabled: true,
      schedule: "5m",
      locate: "none",
      locate_schedule: "15m",
      family: true,
      home: null,
      friendly_names: {},
    });
    expect(first?.photos.download).toMatchObject({ enabled: false, folder: null, structure: "{yyyy}/{mm}/{dd}" });
    expect(first?.calls).toMatchObject({ source: "icloud", schedule: "5m" });
    expect(first).toMatchObject({ region: "international", endpoint: null, mfa_timeout: "30m", password: null });
  });

  it("checks friendly names and map tiles", () => {
    const parse = (findmy: unknown, http: unknown = {}) =>
      ConfigSchema.safeParse({ accounts: [{ ...account, findmy }], http });
    expect(parse({ friendly_names: { "Jane’s iPhone": "jane_phone", dev1: "ipad" } }).success).toBe(true);
    for (const name of ["Jane Phone", "", "a/b", "x".repeat(65)]) {
      expect(parse({ friendly_names: { d: name } }).success, name).toBe(false);
    }
    const twice = parse({ friendly_names: { a: "same", b: "same" } });
    expect(twice.error?.issues[0]?.message).toBe('"same" is used twice');
    expect(parse({}, { map: { tiles: null } }).success).toBe(true);
    for (const tiles of [
      "https://{s}.tile.example/{z}/{x}/{y}.png",
      "ftp://t.example/{z}/{x}/{y}",
      "https://t.example/{z}/{x}",
    ]) {
      expect(parse({}, { map: { tiles } }).success, tiles).toBe(false);
    }
  });

  it("defaults the home radius", () => {
    const config = ConfigSchema.parse({ accounts: [{ ...account, findmy: { home: { latitude: 1, longitude: 2 } } }] });
    expect(config.accounts[0]?.findmy.home).toEqual({ latitude: 1, longitude: 2, radius: 100 });
  });

  it("accepts locate lists and rejects unknown keys", () => {
    expect(issues({ accounts: [{ ...account, findmy: { locate: ["iPhone", "abc123"] } }] })).toEqual([]);
    expect(issues({ accounts: [account], mqtt: { server: "x" } })[0]).toMatch(/^mqtt: .*server/);
  });
});

describe("cross-field checks name the key", () => {
  it("requires at least one account", () => {
    expect(issues({})).toEqual(["accounts: at least one account is required"]);
    expect(issues({ accounts: [] })).toEqual(["accounts: at least one account is required"]);
  });

  it("rejects duplicate account ids, also beside other problems", () => {
    const input = { accounts: [account, { ...account, findmy: { schedule: "soon" } }], log_level: "loud" };
    const found = issues(input);
    expect(found).toContain('accounts.1.id: duplicate account id "jane"');
    expect(found.some((i) => i.startsWith("accounts.1.findmy.schedule:"))).toBe(true);
    expect(found.some((i) => i.startsWith("log_level:"))).toBe(true);
  });

  it("validates account ids", () => {
    expect(issues({ accounts: [{ ...account, id: "Jane Doe" }] })[0]).toMatch(/^accounts\.0\.id: must match/);
  });

  it("rejects discovery_prefix equal to base_topic", () => {
    const found = issues({ accounts: [account], mqtt: { base_topic: "ha", discovery_prefix: "ha" } });
    expect(found).toEqual(['mqtt.discovery_prefix: must differ from base_topic ("ha")']);
  });

  it("rejects wildcards and slashes in topics", () => {
    expect(issues({ accounts: [account], mqtt: { base_topic: "a/+" } })[0]).toMatch(/^mqtt\.base_topic: .*wildcards/);
    expect(issues({ accounts: [account], mqtt: { base_topic: "/a" } })[0]).toMatch(/^mqtt\.base_topic: .*start or end/);
  });

  it("requires a token for a non-loopback HTTP host", () => {
    const found = issues({ accounts: [account], http: { host: "0.0.0.0" } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^http\.host: "0\.0\.0\.0" is not a loopback address: set auth_token/);
    expect(issues({ accounts: [account], http: { host: "0.0.0.0", auth_token: "t" } })).toEqual([]);
    expect(issues({ accounts: [account], http: { host: "0.0.0.0", auth_token_file: "/t" } })).toEqual([]);
    expect(issues({ accounts: [account], http: { host: "0.0.0.0", allow_unauthenticated: true } })).toEqual([]);
    expect(issues({ accounts: [account], http: { host: "::1" } })).toEqual([]);
    expect(issues({ accounts: [account], http: { host: "0.0.0.0", enabled: false } })).toEqual([]);
  });

  it("rejects a secret given twice", () => {
    const both = { password: "a", password_file: "/b" };
    expect(issues({ accounts: [{ ...account, ...both }] })).toEqual([
      "accounts.0.password_file: set either password or password_file, not both",
    ]);
    expect(issues({ accounts: [account], mqtt: both })).toEqual([
      "mqtt.password_file: set either password or password_file, not both",
    ]);
    expect(issues({ accounts: [account], http: { auth_token: "a", auth_token_file: "/b" } })).toEqual([
      "http.auth_token_file: set either auth_token or auth_token_file, not both",
    ]);
  });

  it("requires a download folder when downloading", () => {
    const found = issues({ accounts: [{ ...account, photos: { download: { enabled: true } } }] });
    expect(found).toEqual(["accounts.0.photos.download.folder: is required when photos.download.enabled is true"]);
  });

  it("requires cert and key together", () => {
    expect(issues({ accounts: [account], mqtt: { cert: "/c.pem" } })).toEqual([
      "mqtt.key: cert and key must be set together",
    ]);
  });

  it("rejects invalid schedules and durations", () => {
    const found = issues({
      accounts: [
        {
          ...account,
          mfa_timeout: "forever",
          findmy: { schedule: "5 minutes", locate_schedule: "61 * * * *" },
          photos: { schedule: 0 },
        },
      ],
    });
    expect(found).toEqual([
      'accounts.0.mfa_timeout: "forever" is not a duration like 30s, 5m or 1h',
      'accounts.0.findmy.schedule: "5 minutes" is neither an interval like 5m nor a cron expression',
      'accounts.0.findmy.locate_schedule: "61 * * * *" is neither an interval like 5m nor a cron expression',
      "accounts.0.photos.schedule: 0 is neither an interval like 5m nor a cron expression",
    ]);
  });
});

describe("durations and schedules", () => {
  it("parses durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration(90)).toBe(90_000);
    expect(parseDuration("90")).toBe(90_000);
    expect(() => parseDuration("5 minutes")).toThrow(/not a duration/);
    expect(() => parseDuration(0)).toThrow();
    expect(() => parseDuration(-5)).toThrow();
  });

  it("splits intervals from cron expressions", () => {
    expect(parseSchedule("5m")).toEqual({ kind: "interval", ms: 300_000 });
    expect(parseSchedule(30)).toEqual({ kind: "interval", ms: 30_000 });
    expect(parseSchedule("*/10 * * * *")).toEqual({ kind: "cron", expression: "*/10 * * * *" });
    expect(parseSchedule("0 */5 * * * *")).toEqual({ kind: "cron", expression: "0 */5 * * * *" });
    expect(parseSchedule("@hourly")).toEqual({ kind: "cron", expression: "@hourly" });
    expect(() => parseSchedule("5 minutes")).toThrow(
      '"5 minutes" is neither an interval like 5m nor a cron expression',
    );
  });

  it("accepts only 5 and 6 field crons", () => {
    expect(isCronExpression("* * * * * * *")).toBe(false);
    expect(isCronExpression("* * * *")).toBe(false);
    expect(isCronExpression("0 2 * * *")).toBe(true);
  });

  it("finds the shortest gap of a cron expression", () => {
    expect(shortestGapMs({ kind: "cron", expression: "*/2 * * * *" })).toBe(120_000);
    expect(shortestGapMs({ kind: "interval", ms: 7 })).toBe(7);
  });
});
