/** iCloud sessions against the simulator (the client's tests), on the harness (harness.ts). */
import { ICloudSession } from "../../src/icloud/session.ts";
import type { SessionSharingOptions } from "../../src/icloud/session-sharing.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import type { Logger } from "../../src/logger.ts";
import type { ServiceRoutesFactory } from "../../src/simulator/context.ts";
import { parseScenario, type ScenarioInput } from "../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { PASSWORD, startSim, stateDir } from "./harness.ts";

type AccountInput = ScenarioInput["accounts"][number];

/** A tiny service on the simulator (via its service context) to exercise `request()` re-auth. */
export const echoService: ServiceRoutesFactory = (ctx) => [
  {
    id: "test.echo",
    method: ["GET", "POST"],
    path: "/test/echo",
    handle: (req) => {
      const who = ctx.authenticate(req);
      if (!who) return { status: Number(req.url.searchParams.get("deny") ?? 421), json: { error: "no session" } };
      return { status: 200, json: { dsid: who.dsid, query: Object.fromEntries(req.url.searchParams) } };
    },
  },
];

/** A simulator with `accounts` and only the echo service; the test closes it. */
export async function simulator(
  accounts: AccountInput[],
  extra: Omit<ScenarioInput, "accounts"> = {},
): Promise<SimulatorHandle> {
  return startSim(parseScenario({ accounts, ...extra }), { services: [echoService], closeAtCleanup: false });
}

export interface TestSessionOptions {
  password?: string;
  dir?: string;
  logger?: Logger;
  delays?: number[];
  /** Lock and revision settings (short waits and polls in tests). */
  sharing?: SessionSharingOptions;
}

/** A session against the simulator with a store and instant (recorded) back-off. */
export async function openSession(
  sim: SimulatorHandle,
  username: string,
  options: TestSessionOptions = {},
): Promise<ICloudSession> {
  const dir = options.dir ?? (await stateDir());
  const delays = options.delays ?? [];
  return ICloudSession.open({
    username,
    password: options.password ?? PASSWORD,
    endpoint: sim.url,
    store: new SessionStore(dir),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.sharing === undefined ? {} : { sharing: options.sharing }),
    http: {
      backoff: { baseMs: 100, maxMs: 1000, tries: 3 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
  });
}

export const DAY = 86_400_000;
