import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../src/engine/events.ts";
import { callsProbe } from "../../src/simulator/calls/index.ts";
import { engineHarness, enterCode } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const DSID = "20000000099";
const ACCOUNT: TestAccount = {
  appleId: "svc@example.com",
  password: "engine-services-password",
  code: "271828",
  dsid: DSID,
};

afterEach(cleanUp);

async function signedIn(services: Record<string, unknown>) {
  const { sim, engine } = await engineHarness({
    account: ACCOUNT,
    spec: services,
    dirPrefix: "i2m-svc-",
    id: "svc",
    settings: { findmy: { enabled: false } },
  });
  const failed: EngineEvents["sync.failed"][0][] = [];
  engine.bus.on(failed, "sync.failed", (f) => void failed.push(f));
  await engine.start();
  await enterCode(engine, "svc", ACCOUNT.code);
  await until(() => engine.snapshot("svc").state.state === "ready", "ready after the code");
  await engine.execute("sync", {});
  return { sim, engine, failed, state: () => engine.snapshot("svc").state };
}

describe("engine: service status", () => {
  it("a failing service reports its message and a sync.failed; the next good run clears the message", async () => {
    const { engine, failed, state } = await signedIn({
      photos: { count: 2, seed: 1 },
      calls: { generate: { count: 2, seed: 1 } },
    });
    expect(state().services.calls).toMatchObject({ enabled: true, available: true, message: null });
    expect(failed).toEqual([]);

    callsProbe(DSID).failChanges("THROTTLED", { times: 1 });
    await engine.execute("sync", { data_types: ["callkit.calls"] });
    const broken = state();
    expect(broken.state).toBe("ready");
    expect(broken.progressMsg).toBeNull();
    expect(broken.services.calls.available).toBe(true);
    expect(broken.services.calls.message).toEqual(expect.any(String));
    expect(broken.prevError).toMatchObject({ code: expect.any(String) });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ account: "svc", code: broken.prevError?.code });
    // The other service is untouched.
    expect(broken.services.photos.message).toBeNull();

    await engine.execute("sync", { data_types: ["callkit.calls"] });
    expect(state().services.calls).toMatchObject({ available: true, message: null });
    expect(Date.parse(state().services.calls.last_sync ?? "")).toBeGreaterThan(0);
    expect(failed).toHaveLength(1);
  });

  it("a service the account does not offer is unavailable, without sync.failed", async () => {
    const { failed, state } = await signedIn({ photos: { count: 2, seed: 1 } });
    const calls = state().services.calls;
    expect(calls).toMatchObject({ enabled: true, available: false });
    expect(calls.message).toEqual(expect.any(String));
    expect(state().services.photos).toMatchObject({ available: true, message: null });
    expect(state().state).toBe("ready");
    expect(failed).toEqual([]);
  });

  it("a disabled service is never run and says so", async () => {
    const { state } = await signedIn({ photos: { count: 2, seed: 1 }, calls: { generate: { count: 1, seed: 1 } } });
    expect(state().services.findmy).toMatchObject({
      enabled: false,
      available: false,
      message: "disabled in the configuration",
      last_sync: null,
      next_sync: null,
    });
  });
});
