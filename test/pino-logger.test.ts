import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { StoredSession } from "../src/icloud/session-store.ts";
import type { LogLevel } from "../src/logger.ts";
import { createLogger, REDACT_PATHS } from "../src/pino-logger.ts";

const SECRET = "s3cr3t-value-that-must-not-leak";

function capture(level: LogLevel = "debug") {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, parsed, logger: createLogger({ level, destination, pretty: false }) };
}

/** `{ a: { b: SECRET } }` for `a.b`; a `*` segment becomes `any`. */
function objectAt(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split(".").map((key) => (key === "*" ? "any" : key));
  let out: unknown = value;
  for (const key of keys.reverse()) out = { [key]: out };
  return out as Record<string, unknown>;
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".").map((k) => (k === "*" ? "any" : k))) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * The fields that hold secrets, written out here rather than read from REDACT_PATHS, so that a path
 * dropped from (or mistyped in) the list fails a test.
 */
const SECRET_FIELDS = [
  "password",
  "mfaCode",
  "securityCode",
  "token",
  "sessionToken",
  "trustToken",
  "session_token",
  "trust_token",
  "session_id",
  "auth_attributes",
  "passcode",
  "cookie",
  "cookies",
  "scnt",
  "accessToken",
];
const EXPECTED_PATHS = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  "headers.cookie",
  "headers.authorization",
  "*.headers.cookie",
  "*.headers.authorization",
];

describe("log redaction (pino)", () => {
  it("redacts exactly the expected paths", () => {
    expect([...REDACT_PATHS].sort()).toEqual([...EXPECTED_PATHS].sort());
  });

  it.each(EXPECTED_PATHS)("%s is logged as [redacted], at every level", (path) => {
    const { lines, parsed, logger } = capture();
    const context = { ...objectAt(path, SECRET), account: "jane" };
    logger.debug("d", context);
    logger.info("i", context);
    logger.warn("w", context);
    logger.error("e", context);
    expect(lines).toHaveLength(4);
    for (const line of parsed()) {
      expect(valueAt(line, path)).toBe("[redacted]");
      expect(line["account"]).toBe("jane");
    }
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("redacts objects and arrays as a whole, in child loggers' lines and bindings too", () => {
    const { lines, parsed, logger } = capture();
    const child = logger.child({ module: "auth", token: SECRET });
    child.info("signed in", { cookies: [{ value: SECRET }], session: { trust_token: SECRET }, status: 200 });
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(parsed()[0]).toMatchObject({
      msg: "signed in",
      module: "auth",
      token: "[redacted]",
      cookies: "[redacted]",
      session: { trust_token: "[redacted]" },
      status: 200,
    });
  });

  it("a stored session logged whole (top level or nested) leaks none of its secrets", () => {
    const session: StoredSession = {
      version: 1,
      username: "jane@example.com",
      client_id: "auth-0000",
      session_token: `${SECRET}-session-token`,
      trust_token: `${SECRET}-trust-token`,
      scnt: `${SECRET}-scnt`,
      session_id: `${SECRET}-session-id`,
      auth_attributes: `${SECRET}-auth-attributes`,
      cookies: { cookies: [{ key: "X-APPLE-WEBAUTH-TOKEN", value: `${SECRET}-cookie` }] },
      srp_sign_ins: 1,
    };
    const { lines, parsed, logger } = capture();
    logger.info("session", session as unknown as Record<string, unknown>);
    logger.info("nested", { session });
    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(SECRET);
    // Only the secrets go; the rest stays readable.
    expect(parsed()[1]).toMatchObject({ session: { username: "jane@example.com", srp_sign_ins: 1 } });
  });

  it("a device passcode or MFA code under its own name never reaches the line", () => {
    const { lines, logger } = capture();
    logger.info("lost mode", { input: { account: "jane", passcode: "482913", text: "call me" } });
    logger.info("code", { securityCode: { code: "123456" }, mfaCode: "654321" });
    const text = lines.join("\n");
    for (const secret of ["482913", "123456", "654321"]) expect(text).not.toContain(secret);
    expect(text).toContain("call me");
  });

  it("honours the level", () => {
    const { lines, logger } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(["w", "e"]);
  });

  it("names the lines when asked, and logs from info up by default", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const named = createLogger({ destination, name: "icloud2mqtt", pretty: false });
    named.debug("hidden");
    named.info("shown");
    const unnamed = createLogger({ destination });
    unnamed.info("plain");
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => [line["msg"], line["name"]])).toEqual([
      ["shown", "icloud2mqtt"],
      ["plain", undefined],
    ]);
  });

  it("writes JSON to a given destination even on a terminal", () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
    Object.defineProperty(process.stdout, "isTTY", { value: true, configurable: true });
    try {
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      createLogger({ destination }).info("json", { password: SECRET });
      expect(lines.map((line) => JSON.parse(line))).toMatchObject([{ msg: "json", password: "[redacted]" }]);
    } finally {
      if (tty) Object.defineProperty(process.stdout, "isTTY", tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });

  it("writes terminal lines to a given destination when asked for them, not to stdout", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const written: unknown[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: unknown) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      createLogger({ destination, pretty: true }).info("to the given stream", { password: SECRET });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.stdout.write = write;
    }
    expect(written).toEqual([]);
    const text = lines.join("");
    expect(text).toContain("to the given stream");
    expect(text).toContain("[redacted]");
    expect(text).not.toContain(SECRET);
    expect(() => JSON.parse(text.trim())).toThrow();
  });
});

describe("log output on stdout (a child process)", () => {
  const logger = fileURLToPath(new URL("../src/pino-logger.ts", import.meta.url));
  /** Runs `createLogger()` without a destination in a child; `tty` makes its stdout claim to be a terminal. */
  async function stdoutOf(tty: boolean): Promise<string> {
    const script = [
      tty ? "Object.defineProperty(process.stdout, 'isTTY', { value: true });" : "",
      `const { createLogger } = await import(${JSON.stringify(logger)});`,
      "const log = createLogger();",
      `log.debug("not at info");`,
      `log.info("hello from the child", { password: ${JSON.stringify(SECRET)}, nested: { trust_token: ${JSON.stringify(SECRET)} } });`,
      "await new Promise((resolve) => setTimeout(resolve, 300));",
    ].join("\n");
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 15_000,
    });
    return stdout;
  }

  it("is JSON when stdout is no terminal, pretty and coloured on a terminal; secrets redacted in both", async () => {
    const [plain, pretty] = await Promise.all([stdoutOf(false), stdoutOf(true)]);
    const lines = plain.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: 30,
      msg: "hello from the child",
      password: "[redacted]",
      nested: { trust_token: "[redacted]" },
    });
    expect(pretty).toContain("hello from the child");
    expect(pretty).toContain("[redacted]");
    expect(pretty).toContain("\u001b["); // colours
    // The terminal line (src/log-terminal.ts): the local time, not epoch milliseconds, then the level.
    const uncoloured = pretty.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    expect(uncoloured).toMatch(/^\d{2}:\d{2}:\d{2} INFO +hello from the child /m);
    expect(pretty).not.toContain("not at info");
    expect(() => JSON.parse(pretty.trim().split("\n")[0] ?? "")).toThrow();
    for (const out of [plain, pretty]) expect(out).not.toContain(SECRET);
  });
});
