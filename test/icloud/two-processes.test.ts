/**
 * Two real processes (`icloud2mqtt login` and `icloud2mqtt run`) on one state folder against the
 * simulator: exactly one SRP sign-in, and both end up using the session.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { startSim } from "../support/harness.ts";
import { killAll, type NodeChild, spawnNode } from "../support/processes.ts";

const APPLE_ID = "shared@example.com";
const PASSWORD = "two processes, one sign-in";

let sim: SimulatorHandle | undefined;
let dir: string | undefined;
afterEach(async () => {
  await killAll();
  await sim?.close();
  sim = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function setUp(mfa: Record<string, unknown>, faults: Record<string, unknown>[] = []) {
  sim = await startSim(
    parseScenario({
      accounts: [{ apple_id: APPLE_ID, password: PASSWORD, srp: { protocol: "s2k", iterations: 1000 }, mfa }],
      faults,
    }),
    { closeAtCleanup: false },
  );
  dir = await mkdtemp(join(tmpdir(), "icloud-two-processes-"));
  const stateDir = join(dir, "state");
  const passwordFile = join(dir, "password");
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const configFile = join(dir, "config.yaml");
  const config = {
    state_dir: stateDir,
    log_level: "info",
    accounts: [
      {
        id: "shared",
        username: APPLE_ID,
        password: PASSWORD,
        endpoint: sim.url,
        photos: { enabled: false },
        calls: { enabled: false },
      },
    ],
    mqtt: { url: null, embedded_broker: { port: 0 } },
    http: { enabled: false },
  };
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const s = sim;
  return {
    sim: s,
    lockFile: new SessionStore(join(stateDir, "sessions")).lockPathFor(APPLE_ID),
    login: () =>
      spawnNode([
        "src/cli/main.ts",
        "login",
        "-u",
        APPLE_ID,
        "--endpoint",
        s.url,
        "--state-dir",
        stateDir,
        "--password-file",
        passwordFile,
      ]),
    run: () => spawnNode(["src/cli/main.ts", "run", "--config", configFile]),
  };
}

/** A pino log line of the bridge with this message. */
function logLine(msg: string): (line: string) => boolean {
  return (line) => line.startsWith("{") && (JSON.parse(line) as { msg?: string }).msg === msg;
}

function logEvent(child: NodeChild, msg: string): Record<string, unknown> | undefined {
  return child.events().find((event) => event["msg"] === msg);
}

async function findMyAnswered(s: SimulatorHandle): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!s.requests().some((r) => r.route?.startsWith("fmip.") === true && r.status === 200)) {
    if (Date.now() > deadline) throw new Error("the bridge never called Find My");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const WAITING = "another process is signing in to this account; waiting for it instead of signing in a second time";

describe("two processes on one state folder", () => {
  it("`login` and `run` started together sign in once and both use the session", { timeout: 90_000 }, async () => {
    // The SRP answer is slow, so whichever process signs in holds the account while the other arrives.
    const world = await setUp({ kind: "none" }, [{ endpoint: "idmsa.signin.init", kind: "latency", delay_ms: 2500 }]);
    const login = world.login();
    const run = world.run();

    expect(await login.exited).toBe(0);
    expect(login.lines.join("\n")).toContain(`Signed in as ${APPLE_ID}`);
    await run.waitFor(logLine("iCloud session active"), "the bridge's active session", 30_000);
    await findMyAnswered(world.sim);

    expect(world.sim.stats(APPLE_ID)).toMatchObject({ signin_init: 1, srp_signins: 1 });
    // One of them waited for the other (the login prints it, the bridge logs it).
    const loginWaited = login.lines.some((line) => line.includes("is signing in to this Apple Account; waiting"));
    const runWaited = logEvent(run, WAITING) !== undefined;
    expect(loginWaited !== runWaited).toBe(true);
    if (runWaited) {
      expect(logEvent(run, WAITING)?.["holder"]).toMatchObject({ pid: login.pid, command: "icloud2mqtt login" });
      expect(logEvent(run, "iCloud session active")?.["via"]).toBe("session stored by another process");
    } else {
      expect(logEvent(run, "iCloud session active")?.["via"]).toBe("sign-in");
      expect(login.lines.join("\n")).toContain("icloud2mqtt run");
    }

    run.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(await exists(world.lockFile)).toBe(false);
  });

  it("`run` started while `login` waits for a code does not sign in, and uses the session once the code is entered", {
    timeout: 90_000,
  }, async () => {
    const world = await setUp({ kind: "hsa2" });
    const login = world.login();
    await login.waitFor(/A code is shown on your trusted Apple devices/, "the login's code prompt", 30_000);
    expect(world.sim.stats(APPLE_ID)).toMatchObject({ srp_signins: 1, codes_sent: { device: 1 } });
    expect(await exists(world.lockFile)).toBe(true);

    const run = world.run();
    await run.waitFor(logLine(WAITING), "the bridge to wait for the login", 30_000);
    expect(logEvent(run, WAITING)?.["holder"]).toMatchObject({ pid: login.pid, command: "icloud2mqtt login" });
    expect(world.sim.stats(APPLE_ID)).toMatchObject({ signin_init: 1, srp_signins: 1, codes_sent: { device: 1 } });

    const shown = world.sim.deviceCode(APPLE_ID);
    if (!shown) throw new Error("no code shown");
    login.write(`${shown.code}\n`);
    expect(await login.exited).toBe(0);
    expect(login.lines.join("\n")).toContain(`Signed in as ${APPLE_ID}`);

    await run.waitFor(logLine("iCloud session active"), "the bridge's active session", 30_000);
    expect(logEvent(run, "iCloud session active")?.["via"]).toBe("session stored by another process");
    await findMyAnswered(world.sim);
    expect(world.sim.stats(APPLE_ID)).toMatchObject({ signin_init: 1, srp_signins: 1, codes_sent: { device: 1 } });
    expect(run.events().some((event) => event["msg"] === "signing in with SRP")).toBe(false);

    run.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(await exists(world.lockFile)).toBe(false);
  });
});
