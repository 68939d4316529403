import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runInteractiveLogin } from "../../src/cli/login-flow.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { createLogger } from "../../src/pino-logger.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, PASSWORD, shownCode, stateDir } from "../support/harness.ts";
import { openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const phones = [
  { id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" as const },
  { id: 2, number: "+1 (•••) •••-••81", push_mode: "sms" as const },
];

function captureLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination, pretty: false }) };
}

function collectSecrets(stored: Record<string, unknown>): string[] {
  const secrets: string[] = [];
  for (const key of ["session_token", "trust_token", "scnt", "session_id", "auth_attributes"]) {
    const value = stored[key];
    if (typeof value === "string") secrets.push(value);
  }
  const cookies = (stored["cookies"] as { cookies?: { value?: string }[] } | undefined)?.cookies ?? [];
  for (const c of cookies)
    if (c.value && c.value.replace(/"/g, "").length >= 8) secrets.push(c.value.replace(/"/g, ""));
  return secrets;
}

describe("secrets never reach the logs", () => {
  it("a whole flow at debug level logs no password, code, token or cookie", async () => {
    sim = await simulator([
      account("quiet@example.com", { mfa: { kind: "hsa2", code: "048213", trusted_phone_numbers: phones } }),
    ]);
    const dir = await stateDir();
    const { lines, logger } = captureLogger();
    const session = await openSession(sim, "quiet@example.com", { dir, logger });
    await session.signIn();
    await session.submitCode("999999");
    await session.requestCode({ method: "sms", phoneNumberId: 2 });
    expect((await session.submitCode("048213")).state).toBe("active");
    sim.faults.add({ endpoint: "test.echo", kind: "status", status: 421, times: 1 });
    await session.request("findme", "/test/echo");
    await session.flush();
    const restarted = await openSession(sim, "quiet@example.com", { dir, logger });
    expect((await restarted.signIn()).state).toBe("active");
    await restarted.flush();

    const stored = JSON.parse(await readFile(new SessionStore(dir).pathFor("quiet@example.com"), "utf8")) as Record<
      string,
      unknown
    >;
    const secrets = collectSecrets(stored);
    expect(secrets.length).toBeGreaterThan(8);
    expect(lines.length).toBeGreaterThan(10);
    const all = lines.join("\n");
    expect(all).toContain("quiet@example.com");
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toMatch(/(?<!\d)048213(?!\d)/);
    expect(all).not.toMatch(/(?<!\d)999999(?!\d)/);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});

describe("interactive login flow", () => {
  it("asks for a code, resends by SMS to a chosen number, stores the session", async () => {
    sim = await simulator([account("cli@example.com", { mfa: { kind: "hsa2", trusted_phone_numbers: phones } })]);
    const dir = await stateDir();
    const out: string[] = [];
    const s = sim;
    const answers: (() => string)[] = [
      () => "sms",
      () => "2",
      () => "1",
      () => {
        const code = shownCode(s, "cli@example.com");
        return `${(Number(code[0]) + 1) % 10}${code.slice(1)}`;
      },
      () => shownCode(s, "cli@example.com"),
    ];
    const io = {
      ask: async (q: string) => {
        out.push(q);
        const next = answers.shift();
        if (!next) throw new Error(`unexpected question ${q}`);
        return next();
      },
      print: (line: string) => out.push(line),
    };
    const session = await openSession(sim, "cli@example.com", { dir });
    expect(await runInteractiveLogin(session, io)).toBe(0);
    expect(out.join("\n")).toContain("That code was not accepted");
    expect(sim.deviceCode("cli@example.com")?.channel).toBe("sms");
    await session.flush();
    const again = await openSession(sim, "cli@example.com", { dir });
    expect(await runInteractiveLogin(again, { ask: async () => "", print: () => undefined })).toBe(0);
    expect(sim.stats("cli@example.com").codes_sent.sms).toBe(1);
  });

  it("exits non-zero with a clear message on a locked account", async () => {
    sim = await simulator([account("clilocked@example.com", { locked: true })]);
    const out: string[] = [];
    const session = await openSession(sim, "clilocked@example.com");
    expect(await runInteractiveLogin(session, { ask: async () => "", print: (l) => out.push(l) })).toBe(1);
    expect(out.join("\n")).toContain("locked");
  });
});
