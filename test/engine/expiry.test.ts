import { afterEach, describe, expect, it } from "vitest";
import type { AccountState } from "../../src/engine/account-state.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import { engineHarness, enterCode } from "../support/engine-harness.ts";
import { cleanUp, sleep, type TestAccount, until } from "../support/harness.ts";

const ACCOUNT: TestAccount = { appleId: "expiry@example.com", password: "engine-expiry-password", code: "192837" };
const CODE = ACCOUNT.code;

afterEach(cleanUp);

describe("engine: the iCloud session ends while the account is ready", () => {
  it("goes blocked (one mfa.required, no sync.failed), and the code resumes syncing", async () => {
    const { sim, engine } = await engineHarness({
      account: ACCOUNT,
      spec: {
        // Everything expires after an hour of simulated time.
        lifetimes: { trust_token: "1h", web_session: "1h", validate_token: "1h", session_token: "1h" },
        photos: { count: 2, seed: 4 },
        calls: { generate: { count: 2, seed: 4 } },
      },
      dirPrefix: "i2m-expiry-",
      id: "exp",
      settings: { findmy: { enabled: false } },
    });
    const required: AccountState[] = [];
    const failed: EngineEvents["sync.failed"][0][] = [];
    engine.bus.on(required, "mfa.required", ({ state }) => void required.push(state));
    engine.bus.on(failed, "sync.failed", (f) => void failed.push(f));
    const state = () => engine.snapshot("exp").state;
    await engine.start();
    await enterCode(engine, "exp", CODE);
    await until(() => state().state === "ready" && state().services.calls.last_sync !== null, "the first sync");
    expect(required).toHaveLength(1);

    sim.clock.advance(2 * 3_600_000);
    // The next sync finds the session gone; signing in again needs a new code.
    await engine.execute("sync", {}).catch(() => undefined);
    await until(() => state().state === "blocked", "blocked again");
    expect(state()).toMatchObject({ session: { state: "failed", error: "code-required" } });
    expect(required).toHaveLength(2);
    expect(failed).toEqual([]);
    await sleep(300);
    expect(state().state).toBe("blocked");
    await expect(engine.execute("sync", {})).rejects.toMatchObject({ code: "NOT_SIGNED_IN" });

    const before = state().services.calls.last_sync;
    await engine.execute("mfa", { code: CODE });
    await until(
      () => state().state === "ready" && state().services.calls.last_sync !== before,
      "the sync after the new code",
    );
    expect(state()).toMatchObject({ prevError: null, session: { state: "active", error: null } });
  });
});
