import { chmod, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
