import { describe, expect, it } from "vitest";
import * as engineEntry from "../../src/engine/index.ts";
import * as remoteEntry from "../../src/remote/index.ts";

/** Pins what `icloud2mqtt/remote` exports; the engine's entry must not (embedding it loads no mqtt.js). */
describe("the remote entry point", () => {
  it("exports the remote engine, its connection seam and its defaults", () => {
    expect(Object.keys(remoteEntry).sort()).toEqual([
      "DEFAULT_COMMAND_TIMEOUT_MS",
      "DEFAULT_TIMEOUTS",
      "RemoteEngine",
      "mqttJsConnection",
    ]);
    expect(Object.keys(engineEntry)).not.toContain("RemoteEngine");
  });
});
