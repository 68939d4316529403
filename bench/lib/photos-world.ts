import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ICloudSession } from "../../src/icloud/session.ts";
import { SessionStore } from "../../src/icloud/session-store.ts";
import { createPhotosRoutes, findPhotosSimulator, type PhotosSimulator } from "../../src/simulator/photos/index.ts";
import { parseScenario } from "../../src/simulator/scenario.ts";
import { type SimulatorHandle, startSimulator } from "../../src/simulator/server.ts";

export const PASSWORD = "bench password";

/** Simulator with one account per entry (`photos` scenario section), no MFA. */
export async function startPhotosSimulator(
  accounts: Record<string, Record<string, unknown>>,
): Promise<{ sim: SimulatorHandle; control: PhotosSimulator; dsid: (appleId: string) => string }> {
  const scenario = parseScenario({
    accounts: Object.entries(accounts).map(([appleId, photos]) => ({
      apple_id: appleId,
      password: PASSWORD,
      srp: { protocol: "s2k", iterations: 1000 },
      mfa: { kind: "none" },
      photos,
    })),
  });
  const sim = await startSimulator({ scenario, port: 0, services: [createPhotosRoutes] });
  const control = findPhotosSimulator(sim.url);
  if (!control) throw new Error("photos simulator not registered");
  const dsid = (appleId: string): string => {
    const found = control.ctx.accounts().find((a) => a.appleId === appleId)?.dsid;
    if (!found) throw new Error(`no account ${appleId}`);
    return found;
  };
  return { sim, control, dsid };
}

/** A session signed in against `url` with a throw-away store. */
export async function signedIn(url: string, appleId: string): Promise<ICloudSession> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-session-"));
  const session = await ICloudSession.open({
    username: appleId,
    password: PASSWORD,
    endpoint: url,
    store: new SessionStore(dir),
  });
  const snap = await session.signIn();
  if (snap.state !== "active") throw new Error(`sign-in failed: ${String(snap.error)}`);
  return session;
}

export function mb(bytes: number): number {
  return Math.round((bytes / 1e6) * 10) / 10;
}
