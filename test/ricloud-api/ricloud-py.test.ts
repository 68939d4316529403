import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, type TestAccount } from "../support/harness.ts";
import { ricloudHarness, untilBlocked } from "../support/ricloud.ts";

const hasPythonRequests = spawnSync("python3", ["-c", "import requests"]).status === 0;
const ACCOUNT: TestAccount = { appleId: "python@example.com", password: "ricloud-py-password", code: "357911" };

afterEach(cleanUp);

describe.skipIf(!hasPythonRequests)("ricloud API with requests shaped like ricloud-py's (Python requests)", () => {
  it("user, session in two attempts, calls, photos, files, ack, a 400 decoded as JSON, Ricloud-Await", async () => {
    const { client, engine } = await ricloudHarness({
      account: ACCOUNT,
      id: "py",
      dirPrefix: "i2m-ricloud-py-",
      spec: { calls: { generate: { count: 4, seed: 9 } }, photos: { count: 3, seed: 2 } },
      settings: { findmy: { enabled: false } },
    });
    await untilBlocked(engine, "py");
    const script = fileURLToPath(new URL("./ricloud_py_flow.py", import.meta.url));
    // No trailing slash: ricloud-py's urljoin then drops nothing only because the API lives at the root.
    const url = client.url.replace(/\/$/, "");
    const run = await promisify(execFile)(
      "python3",
      [script, url, client.token, ACCOUNT.appleId, ACCOUNT.password, ACCOUNT.code],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      user: "user",
      renamed: "python-user-renamed",
      first_attempt: ["failed", "code-required"],
      second_attempt: ["active", null],
      latest_session: ["list", true, false],
      calls_poll: "completed",
      calls: ["data:callkit.calls", "json", 4, "callkit.call"],
      file: ["completed", 2, true, true, true],
      ack: "consumed",
      error: [400, "invalid-parameter", ["payload.data_types"]],
      awaited: "completed",
    });
  });
});
