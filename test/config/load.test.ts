import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, loadConfigDetailed, resolveConfig } from "../../src/config/load.ts";
import { isEngineError } from "../../src/errors.ts";

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "icloud2mqtt-config-"));
  env = { HOME: join(dir, "home") };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const minimal = "accounts:\n  - id: jane\n    username: jane@example.com\n";

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, text);
  return file;
}

async function configError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isEngineError(error, "CONFIG_INVALID")) return error.message;
    throw error;
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("loadConfig files", () => {
  it("reads YAML and resolves relative paths against the file's directory", async () => {
    const file = await write(
      "conf/config.yaml",
      `${minimal}    photos: { download: { enabled: true, folder: ./photos } }\nstate_dir: data\n`,
    );
    const config = await loadConfig({ file, env, cwd: "/" });
    expect(config.state_dir).toBe(join(dir, "conf", "data"));
    expect(config.accounts[0]?.photos.download.folder).toBe(join(dir, "conf", "photos"));
  });

  it("expands ~ with HOME", async () => {
    const file = await write("config.yaml", minimal);
    const config = await loadConfig({ file, env });
    expect(config.state_dir).toBe(join(dir, "home", ".icloud2mqtt"));
    expect(config.accounts[0]?.calls.macos_db).toBe(
      join(dir, "home", "Library/Application Support/CallHistoryDB/CallHistory.storedata"),
    );
  });

  it("fails on a missing file named explicitly, also through ICLOUD2MQTT_CONFIG", async () => {
    expect(await configError(loadConfig({ file: join(dir, "nope.yaml"), env }))).toMatch(/nope\.yaml \(ENOENT\)/);
    const viaEnv = loadConfig({ env: { ...env, ICLOUD2MQTT_CONFIG: join(dir, "gone.yaml") } });
    expect(await configError(viaEnv)).toMatch(/gone\.yaml/);
  });

  it("reports YAML syntax errors", async () => {
    const file = await write("bad.yaml", "accounts: [\n  nope: : :\n");
    expect(await configError(loadConfig({ file, env }))).toMatch(/\(yaml\): /);
  });

  it("uses defaults + env when there is no file", async () => {
    const config = await loadConfig({
      env: { ...env, ICLOUD2MQTT_ACCOUNTS__0__ID: "jane", ICLOUD2MQTT_ACCOUNTS__0__USERNAME: "j@example.com" },
      cwd: dir,
    });
    expect(config.accounts).toHaveLength(1);
    expect(config.mqtt.url).toBeNull();
  });

  it("lists every problem as path: message in one CONFIG_INVALID", async () => {
    const file = await write(
      "config.yaml",
      `${minimal}    findmy: { schedule: 5 minutes }\nmqtt: { base_topic: ha, discovery_prefix: ha }\n`,
    );
    const message = await configError(loadConfig({ file, env }));
    expect(message).toContain(
      'accounts.0.findmy.schedule: "5 minutes" is neither an interval like 5m nor a cron expression',
    );
    expect(message).toContain("mqtt.discovery_prefix: must differ from base_topic");
  });
});

describe("environment overrides", () => {
  it("overrides nested keys, array items and parses YAML scalars", async () => {
    const file = await write("config.yaml", minimal);
    const config = await loadConfig({
      file,
      env: {
        ...env,
        ICLOUD2MQTT_LOG_LEVEL: "debug",
        ICLOUD2MQTT_MQTT__URL: "mqtt://broker:1883",
        ICLOUD2MQTT_MQTT__KEEPALIVE: "30",
        ICLOUD2MQTT_MQTT__DISCOVERY: "false",
        ICLOUD2MQTT_MQTT__EMBEDDED_BROKER__PORT: "0",
        ICLOUD2MQTT_ACCOUNTS__0__PASSWORD: "123456",
        ICLOUD2MQTT_ACCOUNTS__0__FINDMY__LOCATE: "[iPhone, Watch]",
        ICLOUD2MQTT_ACCOUNTS__0__FINDMY__HOME__LATITUDE: "52.5",
        ICLOUD2MQTT_ACCOUNTS__0__FINDMY__HOME__LONGITUDE: "4.9",
        ICLOUD2MQTT_ACCOUNTS__1__ID: "john",
        ICLOUD2MQTT_ACCOUNTS__1__USERNAME: "john@example.com",
        ICLOUD2MQTT_PUSH__SUBJECT: "null",
        ICLOUD2MQTT_HTTP__PORT: "",
      },
    });
    expect(config.log_level).toBe("debug");
    expect(config.mqtt).toMatchObject({ url: "mqtt://broker:1883", keepalive: 30, discovery: false });
    expect(config.mqtt.embedded_broker.port).toBe(0);
    expect(config.accounts[0]?.password).toBe("123456");
    expect(config.accounts[0]?.findmy.locate).toEqual(["iPhone", "Watch"]);
    expect(config.accounts[0]?.findmy.home).toEqual({ latitude: 52.5, longitude: 4.9, radius: 100 });
    expect(config.accounts[1]).toMatchObject({ id: "john", username: "john@example.com" });
    expect(config.push.subject).toBeNull();
    expect(config.http.port).toBe(8723);
  });

  it("keeps string values verbatim where YAML would change them", async () => {
    const file = await write("config.yaml", minimal);
    const load = async (password: string) =>
      (await loadConfig({ file, env: { ...env, ICLOUD2MQTT_ACCOUNTS__0__PASSWORD: password } })).accounts[0]?.password;
    for (const password of ["#secret", "pass #1", "~", "true", "[a, b]", "{x: 1}", "'quoted'", "0x10"]) {
      expect(await load(password)).toBe(password);
    }
    expect(await load("null")).toBeNull();
  });

  it("sets ICLOUD2MQTT_STATE_DIR relative to cwd, not the config file", async () => {
    const file = await write("conf/config.yaml", minimal);
    const config = await loadConfig({ file, env: { ...env, ICLOUD2MQTT_STATE_DIR: "state" }, cwd: "/srv" });
    expect(config.state_dir).toBe("/srv/state");
  });

  it("names the variable in errors and warns about unknown variables", async () => {
    const file = await write("config.yaml", minimal);
    const message = await configError(loadConfig({ file, env: { ...env, ICLOUD2MQTT_MQTT__URL: "http://x" } }));
    expect(message).toContain(
      "mqtt.url: must be a mqtt://, mqtts://, ws:// or wss:// URL (from ICLOUD2MQTT_MQTT__URL)",
    );
    const { warnings } = await loadConfigDetailed({ file, env: { ...env, ICLOUD2MQTT_MQTT__SERVER: "x" } });
    expect(warnings).toEqual([{ path: "mqtt.server", message: expect.stringContaining("ICLOUD2MQTT_MQTT__SERVER") }]);
  });

  it("rejects array gaps", async () => {
    const file = await write("config.yaml", minimal);
    const message = await configError(loadConfig({ file, env: { ...env, ICLOUD2MQTT_ACCOUNTS__3__ID: "x" } }));
    expect(message).toContain("accounts.3.id: ICLOUD2MQTT_ACCOUNTS__3__ID: index 3 leaves a gap");
  });
});

describe("secrets from files", () => {
  it("reads password_file, mqtt.password_file and http.auth_token_file, trimming the newline", async () => {
    await write("secrets/icloud", "apple-secret\n");
    await write("secrets/mqtt", "mqtt-secret\r\n");
    await write("secrets/token", "tok");
    const file = await write(
      "config.yaml",
      `${minimal}    password_file: secrets/icloud\nmqtt: { password_file: secrets/mqtt }\nhttp: { auth_token_file: secrets/token }\n`,
    );
    const config = await loadConfig({ file, env });
    expect(config.accounts[0]?.password).toBe("apple-secret");
    expect(config.accounts[0]?.password_file).toBe(join(dir, "secrets/icloud"));
    expect(config.mqtt.password).toBe("mqtt-secret");
    expect(config.http.auth_token).toBe("tok");
  });

  it("names the key when a secret file is missing or empty", async () => {
    await write("empty", "\n");
    const file = await write(
      "config.yaml",
      `${minimal}    password_file: /nonexistent/icloud\nhttp: { auth_token_file: empty }\n`,
    );
    const message = await configError(loadConfig({ file, env }));
    expect(message).toContain("accounts.0.password_file: cannot read /nonexistent/icloud (ENOENT)");
    expect(message).toContain(`http.auth_token_file: ${join(dir, "empty")} is empty`);
  });
});

describe("warnings", () => {
  it("warns about aggressive schedules without failing", async () => {
    const onWarning: string[] = [];
    const config = await loadConfig({
      env: {
        ...env,
        ICLOUD2MQTT_ACCOUNTS:
          "[{id: jane, username: j, findmy: {schedule: 1m, locate: all, locate_schedule: '*/2 * * * *'}, photos: {schedule: 5m}, calls: {schedule: 30s}}]",
      },
      onWarning: (w) => onWarning.push(`${w.path}: ${w.message}`),
    });
    expect(config.accounts[0]?.findmy.schedule).toBe("1m");
    expect(onWarning).toEqual([
      expect.stringMatching(/^accounts\.0\.findmy\.schedule: runs every 1m, more often than 5m: Apple may/),
      expect.stringMatching(/^accounts\.0\.findmy\.locate_schedule: runs every 2m, .*batteries/),
      expect.stringMatching(/^accounts\.0\.photos\.schedule: runs every 5m, more often than 15m/),
      expect.stringMatching(/^accounts\.0\.calls\.schedule: runs every 30s/),
    ]);
  });

  it("has no warnings for the defaults, and resolveConfig accepts objects built in code", async () => {
    const { warnings, config } = await resolveConfig(
      { accounts: [{ id: "demo", username: "demo" }] },
      { env, cwd: dir },
    );
    expect(warnings).toEqual([]);
    expect(config.state_dir).toBe(join(dir, "home", ".icloud2mqtt"));
  });
});
