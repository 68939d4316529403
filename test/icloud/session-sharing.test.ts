import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { isEngineError } from "../../src/errors.ts";
import { SessionSharing } from "../../src/icloud/session-sharing.ts";
import { SessionStore, type StoredSession } from "../../src/icloud/session-store.ts";
import type { SessionSnapshot } from "../../src/icloud/session-types.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, shownCode, stateDir, until } from "../support/harness.ts";
import { killAll, spawnNode } from "../support/processes.ts";
import { openSession, simulator } from "../support/simulator.ts";

let sim: SimulatorHandle | undefined;
afterEach(async () => {
  await killAll();
  await sim?.close();
  sim = undefined;
});

const HOUR = 3_600_000;
const lifetimes = { trust_token: "30d", web_session: "2h", validate_token: "1h", session_token: "10m" };

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

function record(changes: SessionSnapshot[]) {
  return (snapshot: SessionSnapshot) => void changes.push(snapshot);
}

describe("one sign-in per account across sessions on one state folder", () => {
  it("waits while another process holds the account, then fails with SIGN_IN_BUSY naming it", async () => {
    const id = "busy@example.com";
    sim = await simulator([account(id, { mfa: { kind: "none" } })]);
    const dir = await stateDir();
    const holder = spawnNode(["test/support/lock-child.ts"], {
      LOCK_PATH: new SessionStore(dir).lockPathFor(id),
      LOCK_MODE: "hold",
    });
    await holder.waitFor(/"locked"/, "the other process's lock");
    const session = await openSession(sim, id, { dir, sharing: { waitMs: 600, pollMs: 100 } });
    const changes: SessionSnapshot[] = [];
    session.onChange(record(changes));

    const snap = await session.signIn();
    const named = { pid: holder.pid, host: hostname(), command: "lock-child hold", since: expect.any(String) };
    expect(snap).toMatchObject({
      state: "failed",
      error: "sign-in-busy",
      error_info: { holder: named },
      waiting_for: null,
      srp_sign_ins: 0,
    });
    expect(snap.message).toContain(`pid ${holder.pid}`);
    expect(snap.message).toContain("lock-child hold");
    expect(isEngineError(session.error, "SIGN_IN_BUSY")).toBe(true);
    expect(session.error?.info["holder"]).toEqual(named);
    expect(session.error?.retryable).toBe(true);
    expect(changes.map((c) => c.waiting_for)).toContainEqual(named);
    expect(sim.stats(id)).toMatchObject({ signin_init: 0, srp_signins: 0 });
  });

  it("a second session waits for the first one's code and then uses its session (one SRP, one code)", async () => {
    const id = "two@example.com";
    sim = await simulator([account(id, { mfa: { kind: "hsa2" } })]);
    const dir = await stateDir();
    const first = await openSession(sim, id, { dir });
    expect(await first.signIn()).toMatchObject({ state: "failed", error: "code-required" });
    const lockFile = new SessionStore(dir).lockPathFor(id);
    expect(await exists(lockFile)).toBe(true);

    const second = await openSession(sim, id, { dir, sharing: { pollMs: 100 } });
    const waiting = second.signIn();
    await until(() => second.snapshot().waiting_for !== null, "the second session to wait");
    expect(second.snapshot().waiting_for).toMatchObject({ pid: process.pid, host: hostname() });
    expect(sim.stats(id)).toMatchObject({ srp_signins: 1, codes_sent: { device: 1 } });

    expect(await first.submitCode(shownCode(sim, id))).toMatchObject({ state: "active" });
    expect(await waiting).toMatchObject({ state: "active", error: null, waiting_for: null, awaiting: null });
    expect(sim.stats(id)).toMatchObject({ srp_signins: 1, codes_sent: { device: 1 } });
    expect((await second.request("findme", "/test/echo")).status).toBe(200);
    expect((await first.request("findme", "/test/echo")).status).toBe(200);
    await first.flush();
    await second.flush();
    expect(await exists(lockFile)).toBe(false);
  });

  it("a session waiting for a code takes over a sign-in another process completed, without a code", async () => {
    const id = "pickup@example.com";
    sim = await simulator([account(id, { mfa: { kind: "hsa2" } })]);
    const dir = await stateDir();
    const lockFile = new SessionStore(dir).lockPathFor(id);
    const waiting = await openSession(sim, id, { dir, sharing: { codeHoldMs: 200, pollMs: 100 } });
    const changes: SessionSnapshot[] = [];
    waiting.onChange(record(changes));
    expect(await waiting.signIn()).toMatchObject({ error: "code-required", awaiting: "code" });
    // Nobody entered the code within its lifetime: the lock is let go, the code is still awaited.
    await until(async () => !(await exists(lockFile)), "the lock to be let go");
    expect(waiting.snapshot()).toMatchObject({ state: "failed", awaiting: "code" });

    const other = await openSession(sim, id, { dir });
    expect(await other.signIn()).toMatchObject({ error: "code-required" });
    expect(await other.submitCode(shownCode(sim, id))).toMatchObject({ state: "active" });

    await until(() => waiting.state === "active", "the waiting session to take the stored session over");
    expect(changes.at(-1)).toMatchObject({ state: "active", error: null, awaiting: null });
    expect((await waiting.request("findme", "/test/echo")).status).toBe(200);
    expect(sim.stats(id)).toMatchObject({ srp_signins: 2, codes_sent: { device: 2 } });
    await expect(waiting.submitCode("123456")).rejects.toMatchObject({ code: "INVALID_STATE" });
    await waiting.close();
    expect(await exists(lockFile)).toBe(false);
  });

  it("a code entered after the lock was let go, while another process signs in, is refused with SIGN_IN_BUSY", async () => {
    const id = "late@example.com";
    sim = await simulator([account(id, { mfa: { kind: "hsa2" } })]);
    const dir = await stateDir();
    const late = await openSession(sim, id, { dir, sharing: { codeHoldMs: 100 } });
    await late.signIn();
    const code = shownCode(sim, id);
    const lockFile = new SessionStore(dir).lockPathFor(id);
    await until(async () => !(await exists(lockFile)), "the lock to be let go");
    const other = await openSession(sim, id, { dir });
    expect(await other.signIn()).toMatchObject({ error: "code-required" });

    expect(await late.submitCode(code)).toMatchObject({
      state: "failed",
      error: "sign-in-busy",
      awaiting: null,
      error_info: { holder: { pid: process.pid } },
    });
    expect(sim.stats(id).trust_tokens_issued).toBe(0);
    await other.close();
    await late.close();
  });

  it("a session whose web session expired uses the session another process stored instead of signing in", async () => {
    const id = "expired@example.com";
    sim = await simulator([account(id, { mfa: { kind: "hsa2" }, lifetimes })]);
    const dir = await stateDir();
    const a = await openSession(sim, id, { dir });
    await a.signIn();
    expect(await a.submitCode(shownCode(sim, id))).toMatchObject({ state: "active" });
    await a.flush();
    const b = await openSession(sim, id, { dir });
    expect(await b.signIn()).toMatchObject({ state: "active" });
    await b.flush();

    sim.clock.advance(3 * HOUR); // both web sessions are gone; the trust token still skips the code
    expect(await a.reauthenticate()).toMatchObject({ state: "active", srp_sign_ins: 2 });
    await a.flush();
    expect(sim.stats(id).srp_signins).toBe(2);

    const response = await b.request("findme", "/test/echo");
    expect(response.status).toBe(200);
    expect(b.snapshot()).toMatchObject({ state: "active", srp_sign_ins: 2 });
    expect(sim.stats(id)).toMatchObject({ srp_signins: 2, codes_sent: { device: 1 } });
  });

  it("a refused password stored by another process is not tried again", async () => {
    const id = "refused@example.com";
    sim = await simulator([account(id, { mfa: { kind: "none" } })]);
    const dir = await stateDir();
    const b = await openSession(sim, id, { dir, password: "wrong password" });
    const a = await openSession(sim, id, { dir, password: "wrong password" });
    expect(await a.signIn()).toMatchObject({ error: "invalid-credentials" });
    await a.flush();
    expect(await b.signIn()).toMatchObject({ error: "invalid-credentials" });
    expect(sim.stats(id)).toMatchObject({ signin_init: 1, srp_failures: 1 });
    const c = await openSession(sim, id, { dir });
    expect(await c.signIn()).toMatchObject({ state: "active" }); // another password is tried
  });

  it("closing a session ends its wait for another process", async () => {
    const id = "closing@example.com";
    sim = await simulator([account(id, { mfa: { kind: "hsa2" } })]);
    const dir = await stateDir();
    const first = await openSession(sim, id, { dir });
    await first.signIn();
    const second = await openSession(sim, id, { dir });
    const waiting = second.signIn();
    await until(() => second.snapshot().waiting_for !== null, "the wait");
    await second.close();
    expect(await waiting).toMatchObject({ state: "failed", error: "not-signed-in", waiting_for: null });
    expect(sim.stats(id).srp_signins).toBe(1);
    await first.close();
    expect(await exists(new SessionStore(dir).lockPathFor(id))).toBe(false);
  });
});

describe("session file revisions", () => {
  async function write(store: SessionStore, revision: StoredSession["revision"]): Promise<void> {
    await store.save({ version: 1, username: "rev@example.com", client_id: "c", srp_sign_ins: 0, revision });
  }

  it("an active session another process stored is kept, unless the lock holder stores its fresh sign-in", async () => {
    const store = new SessionStore(await stateDir());
    const sharing = new SessionSharing(store, "rev@example.com");
    expect(await sharing.mayWrite(false)).toBe(true); // no file
    await write(store, { id: "theirs-1", at: new Date().toISOString(), pid: 1, active: true });
    expect(await sharing.unseen()).toMatchObject({ revision: { id: "theirs-1" } });
    expect(await sharing.mayWrite(false)).toBe(false);
    expect(await sharing.mayWrite(true)).toBe(true);

    const seen = await sharing.unseen();
    if (seen) sharing.markSeen(seen);
    expect(await sharing.unseen()).toBeUndefined();
    expect(await sharing.mayWrite(false)).toBe(true);

    await write(store, { id: "theirs-2", at: new Date().toISOString(), active: false });
    expect(await sharing.mayWrite(false)).toBe(true); // a sign-in in progress elsewhere is not a session to keep

    const copy: StoredSession = { version: 1, username: "rev@example.com", client_id: "c", srp_sign_ins: 0 };
    sharing.stamp(copy, true);
    await store.save(copy);
    expect(await sharing.unseen()).toBeUndefined();
    const file = JSON.parse(await readFile(store.pathFor("rev@example.com"), "utf8")) as StoredSession;
    expect(file.revision).toEqual({ id: expect.any(String), at: expect.any(String), pid: process.pid, active: true });
  });
});
