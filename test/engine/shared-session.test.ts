import { copyFile, rename, stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../src/engine/events.ts";
import { ICloudSession } from "../../src/icloud/session.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { sessionsDir } from "../../src/icloud/state-dir.ts";
import { engineHarness } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, tempDir, until } from "../support/harness.ts";

const APPLE_ID = "shared-engine@example.com";
const CODE = "314159";
const ACCOUNT: TestAccount = { appleId: APPLE_ID, password: "engine-shared-password", code: CODE };

afterEach(cleanUp);

describe("engine: a session stored by another process", () => {
  it("an account blocked on a code becomes ready and syncs when another process stores a working session", async () => {
    const { sim, dir, engine } = await engineHarness({
      account: ACCOUNT,
      spec: { mfa: { kind: "hsa2", code: CODE } },
      dirPrefix: "i2m-shared-",
      id: "acct",
      settings: { findmy: { locate: "none" }, photos: { enabled: false }, calls: { enabled: false } },
    });
    const events: Array<keyof EngineEvents> = [];
    for (const name of ["mfa.required", "sync.failed"] as const)
      engine.bus.on(events, name, () => void events.push(name));
    await engine.start();
    await until(() => engine.snapshot("acct").state.state === "blocked", "blocked on the code");

    // Another process signs in (with its own code) and its session file lands in the bridge's folder.
    const elsewhere = await tempDir("i2m-shared-other-");
    const other = await ICloudSession.open({
      username: APPLE_ID,
      password: ACCOUNT.password,
      endpoint: sim.url,
      store: new SessionStore(elsewhere),
    });
    expect(await other.signIn()).toMatchObject({ error: "code-required" });
    expect(await other.submitCode(CODE)).toMatchObject({ state: "active" });
    await other.close();
    const target = new SessionStore(sessionsDir(dir)).pathFor(APPLE_ID);
    await copyFile(new SessionStore(elsewhere).pathFor(APPLE_ID), `${target}.incoming`);
    await rename(`${target}.incoming`, target);

    await until(
      () =>
        engine.snapshot("acct").state.state === "ready" &&
        sim.requests().some((r) => r.route?.startsWith("fmip.") === true && r.status === 200),
      "a Find My sync with the stored session",
    );
    expect(engine.snapshot("acct").state).toMatchObject({
      state: "ready",
      prevError: null,
      session: { state: "active", error: null },
    });
    expect(events.filter((name) => name === "mfa.required")).toHaveLength(1);
    expect(events).not.toContain("sync.failed");
    expect(sim.stats(APPLE_ID)).toMatchObject({ srp_signins: 2, trust_tokens_issued: 1 });
    const lock = new SessionStore(sessionsDir(dir)).lockPathFor(APPLE_ID);
    expect(await stat(lock).catch(() => undefined)).toBeUndefined();
  });
});
