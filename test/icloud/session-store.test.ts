import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isEngineError } from "../../src/errors.ts";
import { AppleCookieJar } from "../../src/icloud/cookie-jar.ts";
import { SessionStore, sessionFileName } from "../../src/icloud/session-store.ts";
import type { Logger } from "../../src/logger.ts";

function recordingLogger(lines: string[]): Logger {
  const log: Logger = {
    debug: (m) => lines.push(m),
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
    child: () => log,
  };
  return log;
}

describe("session store", () => {
  it("writes atomically with mode 0600 in a 0700 directory and reads it back", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "icloud-store-")), "state");
    const store = new SessionStore(dir);
    const jar = new AppleCookieJar();
    await jar.store(
      'X-APPLE-WEBAUTH-HSA-LOGIN="v=2:t=x"; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/',
      "https://setup.icloud.com/x",
    );
    await store.save({
      version: 1,
      username: "User@Example.com",
      client_id: "auth-1",
      session_token: "st",
      trust_token: "tt",
      srp_sign_ins: 2,
      cookies: jar.serialize(),
    });
    const path = store.pathFor("user@example.com");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toEqual([`${sessionFileName("user@example.com")}.session.json`]);
    const loaded = await store.load("user@example.com");
    expect(loaded?.trust_token).toBe("tt");
    expect(loaded?.srp_sign_ins).toBe(2);
    const jar2 = AppleCookieJar.fromSerialized(loaded?.cookies);
    expect(await jar2.cookieHeader("https://setup.icloud.com/y")).toBe('X-APPLE-WEBAUTH-HSA-LOGIN="v=2:t=x"');
  });

  it("a save that fails (here: serialisation) leaves the previous session intact and no temp file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const store = new SessionStore(dir);
    const good = { version: 1 as const, username: "u@example.com", client_id: "c", trust_token: "tt", srp_sign_ins: 1 };
    await store.save(good);
    const before = await readFile(store.pathFor("u@example.com"), "utf8");
    const unserialisable = {
      toJSON() {
        throw new Error("cannot serialise the cookie jar");
      },
    };
    const failed = store.save({ ...good, trust_token: "new", cookies: unserialisable });
    await expect(failed).rejects.toMatchObject({ code: "STORE_FAILED" });
    expect(await readFile(store.pathFor("u@example.com"), "utf8")).toBe(before);
    expect(await store.load("u@example.com")).toEqual(good);
    expect(await readdir(dir)).toEqual([`${sessionFileName("u@example.com")}.session.json`]);
  });

  it("never escapes the directory whatever the username", () => {
    const store = new SessionStore("/state");
    for (const name of ["../../etc/passwd", "/abs", "a/b\\c", "..", ""]) {
      const path = store.pathFor(name);
      expect(path.startsWith("/state/")).toBe(true);
      expect(path.slice("/state/".length)).toMatch(/^[0-9a-f]{32}\.session\.json$/);
    }
  });

  it("chmods an existing file to 0600 on load", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const store = new SessionStore(dir);
    await store.save({ version: 1, username: "u@example.com", client_id: "c", srp_sign_ins: 0 });
    const path = store.pathFor("u@example.com");
    await chmod(path, 0o644);
    await store.load("u@example.com");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("treats a corrupt or invalid file as no session, with a warning", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const lines: string[] = [];
    const store = new SessionStore(dir, recordingLogger(lines));
    await writeFile(store.pathFor("u@example.com"), "{not json", { mode: 0o600 });
    expect(await store.load("u@example.com")).toBeUndefined();
    await writeFile(store.pathFor("u@example.com"), JSON.stringify({ version: 7 }), { mode: 0o600 });
    expect(await store.load("u@example.com")).toBeUndefined();
    expect(lines.filter((l) => l.startsWith("WARN"))).toHaveLength(2);
    expect(await store.load("other@example.com")).toBeUndefined();
    expect(await readFile(store.pathFor("u@example.com"), "utf8")).toContain("version");
  });
});

describe("session store: reading, naming, removing", () => {
  const session = { version: 1 as const, username: "u@example.com", client_id: "c", srp_sign_ins: 0 };

  it("a missing file is no session, silently", async () => {
    const lines: string[] = [];
    const store = new SessionStore(await mkdtemp(join(tmpdir(), "icloud-store-")), recordingLogger(lines));
    expect(await store.load("nobody@example.com")).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("a file that cannot be read is an error (STORE_FAILED), not a silent sign-out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const store = new SessionStore(dir);
    await mkdir(store.pathFor("u@example.com")); // EISDIR
    const error = await store.load("u@example.com").catch((e: unknown) => e);
    expect(isEngineError(error, "STORE_FAILED")).toBe(true);
    expect(error).toMatchObject({ message: "cannot read the session file", info: { username: "u@example.com" } });
    expect((error as Error).cause).toMatchObject({ code: "EISDIR" });
  });

  it("warns about a corrupt, an invalid and another account's file, naming the account", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const lines: Array<[string, unknown]> = [];
    const log: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m, c) => void lines.push([m, c]),
      error: () => undefined,
      child: () => log,
    };
    const store = new SessionStore(dir, log);
    const path = store.pathFor("u@example.com");
    await writeFile(path, "{not json");
    expect(await store.load("u@example.com")).toBeUndefined();
    // A webservice without its url does not fit the schema.
    await writeFile(path, JSON.stringify({ ...session, webservices: { findme: { status: "active" } } }));
    expect(await store.load("u@example.com")).toBeUndefined();
    await writeFile(path, JSON.stringify({ ...session, username: "other@example.com" }));
    expect(await store.load("u@example.com")).toBeUndefined();
    expect(lines).toEqual([
      ["session file is corrupt (not JSON); starting without a stored session", { username: "u@example.com" }],
      ["session file is invalid; starting without a stored session", { username: "u@example.com" }],
      ["session file belongs to another account; ignoring it", { username: "u@example.com" }],
    ]);
    // The user name is compared without case.
    await writeFile(path, JSON.stringify({ ...session, username: "U@Example.com" }));
    expect(await store.load("u@EXAMPLE.com")).toMatchObject({ username: "U@Example.com" });
    expect(lines).toHaveLength(3);
  });

  it("quiet: a corrupt or invalid file is still no session, but without a warning", async () => {
    const lines: string[] = [];
    const store = new SessionStore(await mkdtemp(join(tmpdir(), "icloud-store-")), recordingLogger(lines));
    const path = store.pathFor("u@example.com");
    await writeFile(path, "{not json");
    expect(await store.load("u@example.com", { quiet: true })).toBeUndefined();
    await writeFile(path, JSON.stringify({ version: 7 }));
    expect(await store.load("u@example.com", { quiet: true })).toBeUndefined();
    expect(lines).toEqual([]);
    expect(await store.load("u@example.com", { quiet: false })).toBeUndefined();
    expect(lines).toEqual(["WARN session file is invalid; starting without a stored session"]);
  });

  it("keeps a well-formed revision and drops one of the wrong shape, keeping the session", async () => {
    const store = new SessionStore(await mkdtemp(join(tmpdir(), "icloud-store-")));
    const path = store.pathFor("u@example.com");
    const revision = { id: "rev-1", at: "2026-12-01T06:00:00.000Z", pid: 4242, active: true };
    await writeFile(path, JSON.stringify({ ...session, revision }));
    expect(await store.load("u@example.com")).toEqual({ ...session, revision });
    for (const wrong of [
      {},
      { ...revision, id: 7 },
      { ...revision, at: null },
      { ...revision, pid: 1.5 },
      { ...revision, active: "yes" },
    ]) {
      await writeFile(path, JSON.stringify({ ...session, revision: wrong }));
      expect(await store.load("u@example.com"), JSON.stringify(wrong)).toEqual(session);
    }
  });

  it("names the file after a hash of the trimmed, lower-cased user name", () => {
    const store = new SessionStore("/state");
    const expected = createHash("sha256").update("user@example.com").digest("hex").slice(0, 32);
    expect(sessionFileName("  User@Example.COM ")).toBe(expected);
    expect(store.pathFor("user@example.com")).toBe(`/state/${expected}.session.json`);
  });

  it("a failed write says which account, and why", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const store = new SessionStore(dir);
    await mkdir(store.pathFor("u@example.com")); // rename onto a folder fails
    const error = await store.save(session).catch((e: unknown) => e);
    expect(isEngineError(error, "STORE_FAILED")).toBe(true);
    expect(error).toMatchObject({ message: "cannot write the session file", info: { username: "u@example.com" } });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it.skipIf(process.platform !== "linux")("leaves no file open after saving", async () => {
    const store = new SessionStore(await mkdtemp(join(tmpdir(), "icloud-store-")));
    await store.save(session);
    const before = (await readdir("/proc/self/fd")).length;
    for (let i = 0; i < 5; i++) await store.save({ ...session, srp_sign_ins: i });
    expect((await readdir("/proc/self/fd")).length).toBeLessThanOrEqual(before);
  });

  it("removes the file; removing a missing one is fine", async () => {
    const dir = await mkdtemp(join(tmpdir(), "icloud-store-"));
    const store = new SessionStore(dir);
    await store.save(session);
    await store.remove("U@example.com");
    expect(await readdir(dir)).toEqual([]);
    await store.remove("u@example.com");
  });
});

describe("Apple cookie quirk", () => {
  const url = "https://setup.icloud.com/setup/ws/1/accountLogin";
  it("keeps cookies with a past expiry and a value as session cookies", async () => {
    const jar = new AppleCookieJar();
    await jar.store(
      'X-APPLE-WEBAUTH-HSA-LOGIN="v=2:t=abc"; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/; Domain=.icloud.com',
      url,
    );
    await jar.store('X-APPLE-WEBAUTH-TOKEN="v=2:t=t"; Max-Age=3600; Path=/; Domain=.icloud.com', url);
    const header = await jar.cookieHeader("https://p61-ckdatabasews.icloud.com/database");
    expect(header).toContain('X-APPLE-WEBAUTH-HSA-LOGIN="v=2:t=abc"');
    expect(header).toContain('X-APPLE-WEBAUTH-TOKEN="v=2:t=t"');
    expect(jar.has("X-APPLE-WEBAUTH-TOKEN")).toBe(true);
  });

  it("an empty value with a past expiry still deletes", async () => {
    const jar = new AppleCookieJar();
    await jar.store("A=1; Path=/; Domain=.icloud.com", url);
    await jar.store("A=; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/; Domain=.icloud.com", url);
    expect(await jar.cookieHeader(url)).toBe("");
  });

  it("survives serialisation (the kept cookie included)", async () => {
    const jar = new AppleCookieJar();
    await jar.store("Q=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/", "http://127.0.0.1:1234/x");
    const copy = AppleCookieJar.fromSerialized(JSON.parse(JSON.stringify(jar.serialize())));
    expect(await copy.cookieHeader("http://127.0.0.1:1234/y")).toBe("Q=1");
  });
});
