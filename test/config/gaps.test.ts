import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkConfig, formatConfigCheck } from "../../src/config/check.ts";
import { loadConfig } from "../../src/config/load.ts";
import { isEngineError } from "../../src/errors.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { sessionsDir } from "../../src/icloud/state-dir.ts";

/** Configurations that passed the checks but could not run, and files that took long to refuse. */

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
let dir: string;
const env = () => ({ HOME: join(dir, "home") });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "i2m-config-gaps-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(text: string, name = "config.yaml"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const account = (extra = "    password: pw\n", id = "jane") =>
  `state_dir: ./state\naccounts:\n  - id: ${id}\n    username: jane@example.com\n${extra}`;

/** Runs the real CLI; kills it after `timeoutMs` (a `run` that does not fail keeps running). */
function cli(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; out: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...env(), PATH: process.env["PATH"] ?? "" } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    });
  });
}

describe("config check and run agree", () => {
  it("`config check` refuses the reserved account id bridge", async () => {
    const result = await cli(["config", "check", "-c", await file(account(undefined, "bridge"))]);
    expect(result.code).toBe(1);
    expect(result.out).toContain("Configuration INVALID");
    expect(result.out).toMatch(/error {3}accounts\.0\.id: is reserved \(bridge\)/);
  });

  it("a broker URL with a port outside 1–65535 is a configuration error naming the key", async () => {
    const path = await file(`${account()}mqtt:\n  url: mqtt://broker.local:99999\n`);
    const error = await loadConfig({ file: path, env: env() }).catch((e: unknown) => e);
    expect(isEngineError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/mqtt\.url: has port "99999"; a port is a number from 1 to 65535/);
    for (const bad of ["mqtt://:1883", "mqtt://broker:0"]) {
      const result = await checkConfig({ file: await file(`${account()}mqtt:\n  url: "${bad}"\n`), env: env() });
      expect(result.ok, bad).toBe(false);
    }
    const fine = await checkConfig({
      file: await file(`${account()}mqtt:\n  url: mqtts://u:p@[::1]:8883\n`),
      env: env(),
    });
    expect(fine.errors).toEqual([]);
  });

  it("an account without a password and without a stored session fails the check and `run`, saying what to do", async () => {
    const path = await file(account(""));
    const result = await checkConfig({ file: path, env: env() });
    expect(result.ok).toBe(false);
    expect(formatConfigCheck(result)).toMatch(
      /error {3}accounts\.0\.password: no password and no stored session in .*state: set password or password_file .* or sign in once with `icloud2mqtt login --username jane@example.com/,
    );
    const run = await cli(["run", "-c", path]);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/CONFIG_INVALID: .*no password and no stored session/s);

    // A session stored by `icloud2mqtt login` is enough.
    await new SessionStore(sessionsDir(join(dir, "state"))).save({
      version: 1,
      username: "jane@example.com",
      client_id: "auth-test",
      session_token: "stored-token",
      srp_sign_ins: 1,
    });
    expect((await checkConfig({ file: path, env: env() })).ok).toBe(true);
  });
});

describe("hostile configuration files are refused before they are parsed", () => {
  it("a file over 1 MiB is refused by its size", async () => {
    const deep = "[".repeat(700) + "]".repeat(700);
    let text = account();
    for (let i = 0; text.length < 3_000_000; i++) text += `junk${i}: ${deep}\n`;
    const result = await checkConfig({ file: await file(text), env: env() });
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      {
        path: "(file)",
        message: expect.stringMatching(/^is \d+ bytes; a configuration file may have at most 1048576$/),
      },
    ]);
  });

  it("nesting deeper than 32 levels, in brackets or by indentation, is refused without parsing", async () => {
    const flow = await checkConfig({
      file: await file(`${account()}junk: ${"[".repeat(5_000)}${"]".repeat(5_000)}\n`),
      env: env(),
    });
    expect(flow.errors).toEqual([
      { path: "(yaml)", message: "not parsed: line 6 nests collections deeper than 32 levels" },
    ]);
    const block = Array.from({ length: 200 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
    const indented = await checkConfig({ file: await file(`${account()}${block}\n`), env: env() });
    expect(indented.errors[0]).toEqual({
      path: "(yaml)",
      message: expect.stringMatching(/^not parsed: line \d+ is indented more than 128 columns$/),
    });
    // Brackets inside quotes or comments do not count.
    const quoted = await checkConfig({
      file: await file(`${account(`    password: "${"[".repeat(100)}"\n`)}# ${"{".repeat(100)}\n`),
      env: env(),
    });
    expect(quoted.errors).toEqual([]);
  });
});
