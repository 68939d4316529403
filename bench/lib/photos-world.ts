import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { LEAN_NODE_FLAGS } from "../../src/cli/node-flags.ts";
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

/**
 * Compiles `src/` to `dist/` (`npm run build`): the benchmark children run the compiled JavaScript, as
 * the installed command does (type stripping would add its own compiler to the measured process).
 */
export async function buildDist(): Promise<void> {
  const root = path.join(import.meta.dirname, "..", "..");
  await promisify(execFile)(process.execPath, [path.join(root, "scripts", "build.ts")], { cwd: root });
}

/** How a benchmark child runs Node: as the installed command does (`lean`) or with Node's defaults. */
export type ChildNode = "lean" | "defaults";

/** The installed command's Node settings (src/cli/node-flags.ts): V8 flags and glibc's arena limit. */
export const LEAN_CHILD = { flags: [...LEAN_NODE_FLAGS], env: { MALLOC_ARENA_MAX: "2" } };

/**
 * Runs `bench/lib/photos-child.js <mode>` against the simulator at `url` as `appleId` (its own process,
 * so its RSS is the client's alone) and returns the JSON line it prints.
 */
export async function runPhotosChild(
  mode: "enumerate" | "serial" | "backfill",
  url: string,
  appleId: string,
  node: ChildNode,
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const lean = node === "lean";
  const child = await promisify(execFile)(
    process.execPath,
    [...(lean ? LEAN_CHILD.flags : []), path.join(import.meta.dirname, "photos-child.js"), mode],
    {
      env: {
        ...process.env,
        ...(lean ? LEAN_CHILD.env : {}),
        ...env,
        BENCH_SIM_URL: url,
        BENCH_APPLE_ID: appleId,
        BENCH_PASSWORD: PASSWORD,
      },
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
}
