import { EngineError } from "../errors.ts";

/**
 * Budgets of the actions that reach Apple on request or cost the user something: every code tried,
 * every code sent, every re-authentication asked for and every full (password) sign-in, which
 * e-mails the user and pushes a code to their devices. One `AccountLimits` per account, inside the
 * engine, so MQTT, HTTP and every later front-end share it.
 */
export const LIMIT_KINDS = ["code_attempts", "code_requests", "reauthentications", "full_sign_ins"] as const;
export type LimitKind = (typeof LIMIT_KINDS)[number];

/** At most `max` within any `windowMs`. */
export interface Budget {
  max: number;
  windowMs: number;
}

export type Limits = Record<LimitKind, Budget>;

const MINUTE = 60_000;

export const DEFAULT_LIMITS: Readonly<Limits> = {
  /** Apple locks code entry after a handful of wrong codes; the HTTP page allows as many. */
  code_attempts: { max: 5, windowMs: MINUTE },
  /** Codes sent by device push, SMS or voice call on request (the first one of a sign-in is free). */
  code_requests: { max: 3, windowMs: 10 * MINUTE },
  /** `reauthenticate` commands. */
  reauthentications: { max: 2, windowMs: 10 * MINUTE },
  /** SRP sign-ins, whatever started them (start, retry, re-authentication, an expired session). */
  full_sign_ins: { max: 3, windowMs: 60 * MINUTE },
};

const WHAT: Record<LimitKind, string> = {
  code_attempts: "verification code attempts",
  code_requests: "verification code requests",
  reauthentications: "re-authentication requests",
  full_sign_ins: "full sign-ins (each one e-mails the account owner)",
};

/** One account's sliding windows. `take` counts an action or refuses it with RATE_LIMITED and `retry_after`. */
export class AccountLimits {
  readonly #limits: Limits;
  readonly #hits = new Map<LimitKind, number[]>();
  readonly #now: () => number;

  constructor(limits: Partial<Limits> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
    this.#now = now;
  }

  /** Seconds until `kind` allows one more action (0: allowed now). */
  wait(kind: LimitKind): number {
    const { max, windowMs } = this.#limits[kind];
    const now = this.#now();
    const recent = (this.#hits.get(kind) ?? []).filter((t) => now - t < windowMs);
    this.#hits.set(kind, recent);
    if (recent.length < max) return 0;
    const oldest = recent[recent.length - max] ?? now;
    return Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
  }

  /** Counts one `kind` action, or throws RATE_LIMITED (retryable, `info.retry_after` in seconds) without counting it. */
  take(kind: LimitKind): void {
    this.check(kind);
    this.count(kind);
  }

  /** Throws RATE_LIMITED when `kind` has no budget left now; counts nothing. */
  check(kind: LimitKind): void {
    const wait = this.wait(kind);
    if (wait === 0) return;
    const { max, windowMs } = this.#limits[kind];
    throw new EngineError(
      "RATE_LIMITED",
      `too many ${WHAT[kind]} for this account (at most ${max} in ${describeWindow(windowMs)}); try again in ${wait} s`,
      { info: { retry_after: wait, limit: kind }, retryable: true },
    );
  }

  /** Counts `times` actions of `kind` that happened (e.g. full sign-ins noticed afterwards). */
  count(kind: LimitKind, times = 1): void {
    const hits = this.#hits.get(kind) ?? [];
    for (let i = 0; i < times; i++) hits.push(this.#now());
    this.#hits.set(kind, hits);
  }
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? "an hour" : `${ms / 3_600_000} hours`;
  if (ms % MINUTE === 0) return ms === MINUTE ? "a minute" : `${ms / MINUTE} minutes`;
  return `${Math.round(ms / 1000)} s`;
}
