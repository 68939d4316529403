import type { ICloudSession } from "../../src/icloud/session.ts";
import { createPhotosRoutes, findPhotosSimulator, type PhotosSimulator } from "../../src/simulator/photos/index.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";
import { account, startSim } from "./harness.ts";
import { openSession } from "./simulator.ts";

export const APPLE_ID = "photos@example.com";

export interface PhotosWorld {
  sim: SimulatorHandle;
  session: ICloudSession;
  control: PhotosSimulator;
  dsid: string;
  /** Photos requests the simulator answered (by route id prefix `photos.`), optionally one route. */
  served(route?: string): number;
}

/** A simulator with the photos service and one signed-in account. */
export async function photosWorld(
  photos: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<PhotosWorld> {
  const scenario = parseScenario({ accounts: [account(APPLE_ID, { mfa: { kind: "none" }, photos, ...extra })] });
  const sim = await startSim(scenario, { services: [createPhotosRoutes], closeAtCleanup: false });
  const session = await openSession(sim, APPLE_ID);
  const snap = await session.signIn();
  if (snap.state !== "active") throw new Error(`sign-in failed: ${JSON.stringify(snap.error)}`);
  const control = findPhotosSimulator(sim.url);
  if (!control) throw new Error("photos simulator not found");
  const dsid = control.ctx.accounts().find((a) => a.appleId === APPLE_ID)?.dsid;
  if (!dsid) throw new Error("no dsid");
  const served = (route?: string) =>
    sim.requests().filter((r) => (route ? r.route === route : r.route?.startsWith("photos.") === true)).length;
  return { sim, session, control, dsid, served };
}
