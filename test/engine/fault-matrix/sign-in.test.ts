import { cp } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../../src/engine/engine.ts";
import { isEngineError } from "../../../src/errors.ts";
import { parseScenario } from "../../../src/simulator/scenario.ts";
import type { SimulatorHandle } from "../../../src/simulator/server.ts";
import {
  type CellResult,
  checkErrors,
  checkFaultReached,
  checkStateShowsFailure,
  FAULTS,
  faultSpec,
  type MatrixFault,
  MODES,
  type Mode,
  matrixHttp,
  matrixReport,
  RETRY_AFTER_S,
  requestMark,
  routesSince,
  UnhandledWatch,
} from "../../support/fault-matrix.ts";
import { cleanUp, sleep, startScenario, tempDir } from "../../support/harness.ts";

/**
 * The fault matrix, sign-in half: every route a sign-in requests × every fault × once/repeated.
 * Each cell starts a fresh engine (one simulator for all cells), injects the fault, and drives the
 * sign-in as a user would (code, SMS resend, two-step choice) until the account is signed in.
 * Invariants per cell: no unhandled rejection; every failure the account shows (prevError, the
 * session's error, a refused command) describes the fault; Apple processes at most one full SRP
 * sign-in; the account signs in once the fault clears.
 */

const PASSWORD = "fault-matrix-password";
const BIG = { max_code_sends: 100_000, max_wrong_codes: 100_000 };
const SRP = { protocol: "s2k", iterations: 1000 } as const;

type MfaKind = "device" | "sms" | "2sv" | "none";
interface Variant {
  phase: string;
  appleId: string;
  mfa: MfaKind;
  code: string;
  /** A state folder to start from (a stored session). */
  template?: string;
}

const VARIANTS: Variant[] = [
  { phase: "sign-in (two-factor, device code)", appleId: "device@matrix.example", mfa: "device", code: "111111" },
  { phase: "sign-in (two-factor, SMS code)", appleId: "sms@matrix.example", mfa: "sms", code: "222222" },
  { phase: "sign-in (two-step)", appleId: "twostep@matrix.example", mfa: "2sv", code: "3333" },
  { phase: "sign-in (account repair)", appleId: "repair@matrix.example", mfa: "none", code: "" },
  { phase: "restart with a stored session", appleId: "restart@matrix.example", mfa: "device", code: "444444" },
];

const scenario = parseScenario({
  accounts: [
    {
      apple_id: "device@matrix.example",
      password: PASSWORD,
      srp: SRP,
      mfa: { kind: "hsa2", code: "111111", trusted_devices: [{ name: "iPhone" }], ...BIG },
    },
    {
      apple_id: "sms@matrix.example",
      password: PASSWORD,
      srp: SRP,
      mfa: {
        kind: "hsa2",
        code: "222222",
        trusted_phone_numbers: [{ id: 1, number: "+1 (•••) •••-••80", push_mode: "sms" }],
        ...BIG,
      },
    },
    {
      apple_id: "twostep@matrix.example",
      password: PASSWORD,
      srp: SRP,
      mfa: {
        kind: "2sv",
        code: "3333",
        devices_2sv: [{ device_id: "1", device_type: "SMS", phone_number: "*******58", area_code: "" }],
      },
    },
    { apple_id: "repair@matrix.example", password: PASSWORD, srp: SRP, mfa: { kind: "none" }, repair_needed: true },
    {
      apple_id: "restart@matrix.example",
      password: PASSWORD,
      srp: SRP,
      mfa: { kind: "hsa2", code: "444444", trusted_devices: [{ name: "iPhone" }], ...BIG },
    },
  ],
});

let sim: SimulatorHandle;
const watch = new UnhandledWatch();
const results: CellResult[] = [];
/** Routes each variant requests when nothing fails. */
const probed = new Map<string, string[]>();

function engineFor(variant: Variant, stateDir: string, sleeps: number[]): Engine {
  return new Engine({
    accounts: [
      {
        id: "acct",
        username: variant.appleId,
        password: PASSWORD,
        endpoint: sim.url,
        findmy: { enabled: false },
        photos: { enabled: false },
        calls: { enabled: false },
      },
    ],
    stateDir,
    retryDelayMs: 20,
    http: matrixHttp(sleeps),
  });
}

interface Run {
  errors: string[];
  /** Times the user had to re-authenticate (failures that are not retried automatically). */
  reauthenticated: number;
  problems: string[];
  srp: number;
  routes: string[];
  sleeps: number[];
  /** The requests of the run, for the report of a broken cell. */
  trace?: string;
}

/**
 * Signs the variant's account in as a user would, with `fault` injected (none for the probe),
 * clearing a repeated fault once the account showed the failure.
 */
async function signIn(variant: Variant, injected?: { fault: MatrixFault; mode: Mode; route: string }): Promise<Run> {
  const dir = await tempDir("i2m-matrix-");
  if (variant.template !== undefined) await cp(variant.template, dir, { recursive: true });
  const sleeps: number[] = [];
  const engine = engineFor(variant, dir, sleeps);
  const run: Run = { errors: [], reauthenticated: 0, problems: [], srp: 0, routes: [], sleeps };
  const srpBefore = sim.stats(variant.appleId).srp_signins;
  const mark = requestMark(sim);
  if (injected) sim.faults.add(faultSpec(injected.route, injected.fault, injected.mode));
  /** A failure the account showed; `waiting` when it is being asked for a code or choice (again). */
  let cleared = false;
  const failed = (code: string) => {
    if (injected?.mode === "repeated") {
      cleared = true;
      sim.faults.clear();
    }
    // Asked for a (new) code: Apple refused to trust this browser. The sign-in goes on.
    if (code === "code-required" || code === "choice-required") return;
    run.errors.push(code);
  };
  let lastPrev = "";
  let resent = false;
  /** When the account last showed a failure without waiting for the user (ready with prevError). */
  let idleSince: number | undefined;
  try {
    await engine.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (Date.now() > deadline) {
        run.problems.push(`not signed in after 10 s (state ${JSON.stringify(engine.snapshot("acct").state)})`);
        break;
      }
      const state = engine.snapshot("acct").state;
      if (state.session.state === "active") break;
      const prev = state.prevError === null ? "" : `${state.prevError.code}|${state.prevError.message}`;
      if (prev !== "" && prev !== lastPrev && state.prevError !== null) {
        checkStateShowsFailure(state, run.problems);
        failed(state.prevError.code);
      }
      lastPrev = prev;
      if (state.state === "ready" && state.prevError !== null) {
        // Transient failures come back by themselves (after Retry-After at most); others wait
        // for the user, who re-authenticates once the fault is gone.
        idleSince ??= Date.now();
        const retried = engine.runner("acct").session.error?.retryable === true;
        if (Date.now() - idleSince > (retried ? (RETRY_AFTER_S + 1) * 1000 : 50)) {
          if (retried) run.problems.push("a retryable failure was not retried");
          idleSince = undefined;
          run.reauthenticated += 1;
          await engine.execute("reauthenticate", {}).catch((error: unknown) => {
            if (isEngineError(error)) failed(error.sessionError);
          });
        }
        await sleep(5);
        continue;
      }
      idleSince = undefined;
      if (state.state !== "blocked") {
        await sleep(5);
        continue;
      }
      try {
        if (state.session.error === "choice-required") {
          await engine.execute("choice", { choice: state.session.error_info?.choices?.[0] ?? "" });
        } else if (variant.mfa === "sms" && !resent) {
          await engine.execute("resend_mfa", { method: "sms", phone_number_id: 1 });
          resent = true;
        } else {
          await engine.execute("mfa", { code: variant.code });
        }
      } catch (error) {
        if (!isEngineError(error)) throw error;
        failed(error.sessionError);
        lastPrev = "";
        await sleep(5);
      }
    }
  } catch (error) {
    run.problems.push(`threw: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (injected && !cleared) checkFaultReached(sim, injected.mode, run.problems);
    sim.faults.clear();
    await engine.stop();
  }
  run.srp = sim.stats(variant.appleId).srp_signins - srpBefore;
  run.routes = routesSince(sim, mark);
  run.trace = sim
    .requests()
    .filter((r) => r.seq > mark)
    .map((r) => `${r.route} ${r.status}`)
    .join(", ");
  return run;
}

beforeAll(async () => {
  watch.install();
  sim = await startScenario(scenario);
  // The stored session the restart cells start from.
  const restart = VARIANTS.find((v) => v.template === undefined && v.appleId.startsWith("restart@"));
  if (restart === undefined) throw new Error("no restart variant");
  const template = await tempDir("i2m-matrix-template-");
  const engine = engineFor(restart, template, []);
  await engine.start();
  for (let i = 0; engine.snapshot("acct").state.state !== "blocked"; i++) {
    if (i > 500) throw new Error("the template account did not ask for a code");
    await sleep(10);
  }
  await engine.execute("mfa", { code: restart.code });
  await engine.stop();
  restart.template = template;
  for (const variant of VARIANTS) {
    const run = await signIn(variant);
    if (run.problems.length > 0) throw new Error(`${variant.phase} fails without faults: ${run.problems.join("; ")}`);
    probed.set(variant.phase, run.routes);
  }
});

afterAll(async () => {
  watch.uninstall();
  await cleanUp();
});

describe("fault matrix: sign-in", () => {
  it("every sign-in route × 500, 503, 429, 421, 450, reset, timeout, malformed, truncated × once/repeated", async () => {
    const covered = new Set<string>();
    for (const variant of VARIANTS) {
      // Each route in the first sign-in kind that reaches it.
      const routes = (probed.get(variant.phase) ?? []).filter((r) => !covered.has(r));
      for (const route of routes) covered.add(route);
      for (const route of routes) {
        for (const fault of FAULTS) {
          for (const mode of MODES) {
            const started = Date.now();
            const run = await signIn(variant, { fault, mode, route });
            const problems = [...run.problems, ...watch.take()];
            checkErrors(fault, run.errors, problems);
            if (run.srp > 1) problems.push(`${run.srp} full SRP sign-ins (${run.trace})`);
            if (fault.spec.kind === "rate_limit" && mode === "once" && run.errors.length === 0) {
              if (!run.sleeps.some((ms) => ms >= RETRY_AFTER_S * 1000)) problems.push("Retry-After not honoured");
            }
            results.push({
              phase: variant.phase,
              route,
              fault: fault.name,
              mode,
              outcome: run.errors.length === 0 ? "absorbed" : "failed",
              errors: run.errors,
              srp: run.srp,
              reauthenticated: run.reauthenticated,
              ms: Date.now() - started,
              problems,
            });
          }
        }
      }
    }
    const notRequested = sim.routeIds().filter((id) => !covered.has(id) && /^(idmsa|setup)\./.test(id));
    console.log(matrixReport("sign-in", results, notRequested));
    expect(results.length).toBeGreaterThan(200);
    expect(results.filter((r) => r.problems.length > 0).map((r) => `${r.route}/${r.fault}/${r.mode}`)).toEqual([]);
  }, 600_000);
});
