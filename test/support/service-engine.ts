import { Engine } from "../../src/engine/engine.ts";
import type { EngineEvents } from "../../src/engine/events.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { CaptureLogger } from "./capture-logger.ts";
import { enterCode, testConfig } from "./engine-harness.ts";
import { onCleanup, startTestSimulator, type TestAccount, tempDir, until } from "./harness.ts";

/** Every other service off, so a test sees only the one it is about. */
export const ALL_OFF = {
  findmy: { enabled: false },
  photos: { enabled: false },
  calls: { enabled: false },
  contacts: { enabled: false },
  calendar: { enabled: false },
  notes: { enabled: false },
  safari: { enabled: false },
};

export interface ServiceEngine {
  sim: SimulatorHandle;
  engine: Engine;
  dir: string;
  log: CaptureLogger;
  /** Events of the given names, in order, as they came. */
  events: Array<{ name: string; payload: unknown }>;
  /** Requests the simulator served (route ids) since `mark()`. */
  routesSince(mark: number): string[];
  mark(): number;
}

/**
 * The simulator with `spec` (the account's service sections), an engine whose account has only
 * `settings` on (the others off), signed in with the code and synced once. Logs are captured with
 * their context; `events` collects the named events. Everything is stopped at cleanup.
 */
export async function serviceEngine(options: {
  account: TestAccount;
  id: string;
  spec: Record<string, unknown>;
  settings: Record<string, unknown>;
  events: Array<keyof EngineEvents & string>;
  dir?: string;
}): Promise<ServiceEngine> {
  const sim = await startTestSimulator(options.account, options.spec);
  const dir = options.dir ?? (await tempDir("i2m-service-"));
  const config = await testConfig({
    sim,
    dir,
    account: options.account,
    id: options.id,
    settings: { ...ALL_OFF, ...options.settings },
  });
  const log = new CaptureLogger();
  const engine = new Engine({ accounts: config.accounts, stateDir: config.state_dir, logger: log });
  onCleanup(() => engine.stop());
  const events: Array<{ name: string; payload: unknown }> = [];
  for (const name of options.events) {
    engine.bus.on(events, name, (payload: unknown) => void events.push({ name, payload }));
  }
  await engine.start();
  await enterCode(engine, options.id, options.account.code);
  await until(() => engine.snapshot(options.id).state.state === "ready", "ready after the code");
  await engine.execute("sync", {});
  return {
    sim,
    engine,
    dir,
    log,
    events,
    mark: () => sim.requests().length,
    routesSince: (mark) =>
      sim
        .requests()
        .slice(mark)
        .map((r) => r.route ?? ""),
  };
}
