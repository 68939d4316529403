import { afterEach, describe, expect, it } from "vitest";
import type { AccountState } from "../../src/engine/account-state.ts";
import { engineHarness } from "../support/engine-harness.ts";
import { cleanUp, type TestAccount, until } from "../support/harness.ts";

const ACCOUNT: TestAccount = { appleId: "twosv@example.com", password: "engine-choice-password", code: "654321" };
const CODE = ACCOUNT.code;

afterEach(cleanUp);

describe("engine: a sign-in that needs a choice first (two-step verification)", () => {
  it("blocks for the choice, then for the code, with one mfa.required; the code signs in", async () => {
    const { engine } = await engineHarness({
      account: ACCOUNT,
      spec: {
        mfa: {
          kind: "2sv",
          code: CODE,
          devices_2sv: [
            { device_id: "1", device_type: "SMS", phone_number: "•••-••21", area_code: "+1" },
            { device_id: "2", device_type: "SMS", phone_number: "•••-••42", area_code: "+1" },
          ],
        },
        photos: { count: 2, seed: 1 },
      },
      dirPrefix: "i2m-choice-",
      id: "two",
      settings: { findmy: { enabled: false }, calls: { enabled: false } },
    });
    const required: AccountState[] = [];
    engine.bus.on(required, "mfa.required", ({ state }) => void required.push(state));
    const state = () => engine.snapshot("two").state;
    await engine.start();

    await until(() => state().state === "blocked", "blocked for a choice");
    const choosing = state();
    expect(choosing).toMatchObject({
      state: "blocked",
      progressMsg: "Waiting for a choice of device...",
      session: { state: "failed", error: "choice-required" },
    });
    const choices = choosing.session.error_info?.choices ?? [];
    expect(choices.length).toBeGreaterThanOrEqual(2);
    expect(required).toHaveLength(1);

    // A code before the choice, or a choice nobody offered, are refused and change nothing.
    await expect(engine.execute("mfa", { code: CODE })).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(engine.execute("choice", { choice: "no such device" })).rejects.toBeDefined();
    await until(() => state().state === "blocked", "still blocked");

    const chosen = choices[1] ?? "";
    await expect(engine.execute("choice", { choice: chosen })).resolves.toMatchObject({ awaiting: "code" });
    expect(state()).toMatchObject({
      state: "blocked",
      progressMsg: "Waiting for MFA code...",
      session: { error: "code-required" },
    });
    expect(required).toHaveLength(1);

    await expect(engine.execute("mfa", { code: CODE })).resolves.toMatchObject({ session: "active" });
    await until(() => state().state === "ready" && state().services.photos.last_sync !== null, "the first sync");
    expect(state()).toMatchObject({ prevError: null, session: { state: "active" } });
  });
});
