/**
 * The fault matrix's shared parts: the faults, the engine settings that keep each cell short (no
 * real back-off sleeps, short timeouts), a watch for unhandled rejections, and the report printed
 * at the end of each matrix file. The cells themselves live in test/engine/fault-matrix/.
 */
import type { AccountState } from "../../src/engine/account-state.ts";
import type { HttpClientOptions } from "../../src/icloud/http.ts";
import type { FaultSpec } from "../../src/simulator/fault-spec.ts";
import type { SimulatorHandle } from "../../src/simulator/server.ts";

export interface MatrixFault {
  name: string;
  spec: Omit<FaultSpec, "endpoint" | "times">;
  /** Account prevError / session error codes that correctly describe this fault when it breaks a step. */
  errors: readonly string[];
}

/** Transient failures all end as one of these (the transport's codes, mapped to session errors). */
const TRANSIENT = ["service-unavailable", "download-failed"] as const;

/** Retry-After of the 429 fault, in seconds: honoured, and short enough for the matrix. */
export const RETRY_AFTER_S = 1;

export const FAULTS: readonly MatrixFault[] = [
  { name: "500", spec: { kind: "status", status: 500 }, errors: TRANSIENT },
  { name: "503", spec: { kind: "unavailable" }, errors: TRANSIENT },
  {
    name: "429+Retry-After",
    spec: { kind: "rate_limit", retry_after: RETRY_AFTER_S },
    errors: ["rate-limited", ...TRANSIENT],
  },
  { name: "421", spec: { kind: "status", status: 421 }, errors: ["session-expired", ...TRANSIENT] },
  { name: "450", spec: { kind: "status", status: 450 }, errors: ["session-expired", ...TRANSIENT] },
  { name: "reset", spec: { kind: "reset" }, errors: TRANSIENT },
  { name: "timeout", spec: { kind: "hang" }, errors: TRANSIENT },
  { name: "malformed JSON", spec: { kind: "malformed" }, errors: TRANSIENT },
  { name: "truncated body", spec: { kind: "truncated" }, errors: TRANSIENT },
];

/** `once`: the next request of the route fails; `repeated`: every request fails until the cell clears it. */
export const MODES = ["once", "repeated"] as const;
export type Mode = (typeof MODES)[number];

export function faultSpec(route: string, fault: MatrixFault, mode: Mode): FaultSpec {
  return { endpoint: route, ...fault.spec, ...(mode === "once" ? { times: 1 } : {}) } as FaultSpec;
}

/** HTTP settings of every engine in the matrix: two tries, 250 ms timeouts, back-off recorded instead of slept. */
export function matrixHttp(sleeps: number[]): HttpClientOptions {
  return {
    backoff: { baseMs: 1, maxMs: 4, tries: 2, retryAfterCapMs: 5_000 },
    timeoutMs: 250,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

/** Collects unhandled rejections and uncaught exceptions while installed. */
export class UnhandledWatch {
  readonly #seen: string[] = [];
  readonly #onRejection = (reason: unknown) => this.#seen.push(`unhandled rejection: ${describe(reason)}`);
  readonly #onException = (error: unknown) => this.#seen.push(`uncaught exception: ${describe(error)}`);

  install(): void {
    process.on("unhandledRejection", this.#onRejection);
    process.on("uncaughtException", this.#onException);
  }

  uninstall(): void {
    process.off("unhandledRejection", this.#onRejection);
    process.off("uncaughtException", this.#onException);
  }

  /** What was seen since the last call. */
  take(): string[] {
    return this.#seen.splice(0);
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}

export interface CellResult {
  phase: string;
  route: string;
  fault: string;
  mode: Mode;
  /** `absorbed`: the step succeeded despite the fault; `failed`: it failed (with `errors`) and recovered. */
  outcome: "absorbed" | "failed";
  /** prevError codes (and command error codes) the cell saw, in order. */
  errors: string[];
  /** Full SRP sign-ins Apple processed during the cell (fault plus recovery). */
  srp: number;
  /** Re-authentications the user had to ask for (failures the engine does not retry by itself). */
  reauthenticated?: number;
  ms: number;
  /** Broken invariants; empty for a passing cell. */
  problems: string[];
}

/** Checks that an observed error code fits the fault. */
export function checkErrors(fault: MatrixFault, errors: readonly string[], problems: string[]): void {
  for (const code of errors) {
    if (!fault.errors.includes(code)) problems.push(`error ${code} does not describe a ${fault.name}`);
  }
}

/** prevError and the session view agree when the account shows a failure outside the MFA wait. */
export function checkStateShowsFailure(state: AccountState, problems: string[]): void {
  const prev = state.prevError;
  if (prev === null || state.state !== "ready") return;
  if (state.session.state === "active") return; // a service failed, the session is fine
  if (state.session.error !== prev.code)
    problems.push(`prevError ${prev.code} but session error ${String(state.session.error)}`);
}

/** A plain-text summary of a matrix run, printed at the end of each matrix file. */
export function matrixReport(title: string, results: readonly CellResult[], notRequested: readonly string[]): string {
  const lines = [`fault matrix: ${title}: ${results.length} cells`];
  const byPhase = new Map<string, CellResult[]>();
  for (const r of results) byPhase.set(r.phase, [...(byPhase.get(r.phase) ?? []), r]);
  for (const [phase, cells] of byPhase) {
    const routes = new Set(cells.map((c) => c.route));
    const absorbed = cells.filter((c) => c.outcome === "absorbed").length;
    const failing = cells.filter((c) => c.problems.length > 0).length;
    const srp = Math.max(...cells.map((c) => c.srp));
    const user = cells.filter((c) => (c.reauthenticated ?? 0) > 0).length;
    const ms = cells.reduce((sum, c) => sum + c.ms, 0);
    lines.push(
      `  ${phase}: ${routes.size} routes × ${FAULTS.length} faults × ${MODES.length} modes = ${cells.length} cells; ` +
        `${absorbed} absorbed, ${cells.length - absorbed} failed and recovered, ${failing} broken; ` +
        `${user} recovered on re-authentication (not retried by themselves); ` +
        `max SRP sign-ins per cell ${srp}; ${(ms / 1000).toFixed(1)} s`,
    );
    lines.push(`    routes: ${[...routes].join(", ")}`);
  }
  const perFault = FAULTS.map((f) => {
    const cells = results.filter((r) => r.fault === f.name);
    const ms = cells.reduce((sum, c) => sum + c.ms, 0) / Math.max(1, cells.length);
    return `${f.name} ${Math.round(ms)} ms`;
  });
  lines.push(`  mean time per cell: ${perFault.join(", ")}`);
  if (notRequested.length > 0) lines.push(`  routes the client never requests here: ${notRequested.join(", ")}`);
  for (const r of results.filter((c) => c.problems.length > 0)) {
    lines.push(`  BROKEN ${r.phase} / ${r.route} / ${r.fault} / ${r.mode}: ${r.problems.join("; ")}`);
  }
  return lines.join("\n");
}

/** The simulator's request counter now (requests after it have a higher `seq`). */
export function requestMark(sim: SimulatorHandle): number {
  return sim.requests().at(-1)?.seq ?? 0;
}

/** Route ids requested after `mark`. */
export function routesSince(sim: SimulatorHandle, mark: number): string[] {
  return [
    ...new Set(
      sim
        .requests()
        .filter((r) => r.seq > mark)
        .map((r) => r.route ?? ""),
    ),
  ].filter((r) => r !== "");
}

/** A cell whose fault never hit a request tests nothing: say so. */
export function checkFaultReached(sim: SimulatorHandle, mode: Mode, problems: string[]): void {
  const left = sim.faults.list();
  if (mode === "once" ? left.length > 0 : left.every((f) => f.hits === 0)) problems.push("the fault was never reached");
}
