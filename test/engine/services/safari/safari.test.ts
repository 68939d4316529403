import { afterEach, describe, expect, it } from "vitest";
import { SAFARI_NOT_AVAILABLE_MESSAGE } from "../../../../src/engine/services/safari/index.ts";
import { cleanUp, type TestAccount } from "../../../support/harness.ts";
import { serviceEngine } from "../../../support/service-engine.ts";

const ACCOUNT: TestAccount = {
  appleId: "safari@example.com",
  password: "safari-pw",
  code: "112358",
  dsid: "20000000701",
};

afterEach(cleanUp);

describe("engine: Safari history (cloudkit_safari.history)", () => {
  it("is not available for iCloud.com sessions: says why, asks Apple nothing, no sync.failed", async () => {
    const { engine, events, mark, routesSince } = await serviceEngine({
      account: ACCOUNT,
      id: "web",
      spec: {},
      settings: { safari: { enabled: true } },
      events: ["sync.failed"],
    });
    const before = mark();
    const result = await engine.execute("sync", { data_types: ["cloudkit_safari.history"] });
    expect(result).toEqual({ state: "ready" });
    expect(routesSince(before)).toEqual([]);
    expect(engine.snapshot("web").state.services.safari).toMatchObject({
      enabled: true,
      available: false,
      message: SAFARI_NOT_AVAILABLE_MESSAGE,
    });
    expect(engine.snapshot("web").safari).toEqual({ available: false, reason: SAFARI_NOT_AVAILABLE_MESSAGE });
    expect(events).toEqual([]);
    expect(SAFARI_NOT_AVAILABLE_MESSAGE).toMatch(/not available for iCloud\.com sessions/);
  });
});
