import type { SimClock } from "./context.ts";
import type { SimAccount } from "./sim-accounts.ts";
import type { SrpServerSession } from "./srp-server.ts";
import { newAuthAttributes, newAuthSessionId, newChallengeId, newScnt } from "./tokens.ts";

/** An idmsa auth context (X-Apple-ID-Session-Id + the latest scnt). Idle ones die after an hour. */
export const AUTH_SESSION_IDLE_MS = 60 * 60_000;
/** A signin/init challenge must be answered within this time. */
export const SRP_EXCHANGE_MS = 5 * 60_000;

export interface AuthSession {
  id: string;
  scnt: string;
  authAttributes: string;
  lastSeen: number;
  account?: SimAccount;
  /** SRP proof accepted; MFA endpoints open. */
  srpVerified: boolean;
  /** A 2FA code was verified in this session (2sv/trust needs it). */
  codeVerified: boolean;
  /** Second factor satisfied in this sign-in (code, trust token, or none needed). */
  mfaDone: boolean;
  repairPending: boolean;
  /** Wrong codes submitted in this sign-in (code entry locks at the account's `max_wrong_codes`). */
  wrongCodes: number;
  /** Codes sent (devices, SMS, voice) in this sign-in (refused past the account's `max_code_sends`). */
  codesSent: number;
}

export interface PendingSrp {
  c: string;
  authSessionId: string;
  accountName: string;
  account?: SimAccount;
  server: SrpServerSession;
  expiresAt: number;
}

/** idmsa auth contexts (keyed by X-Apple-ID-Session-Id / `aasp`) and pending SRP exchanges. */
export class AuthSessions {
  readonly clock: SimClock;
  readonly #sessions = new Map<string, AuthSession>();
  readonly #pending = new Map<string, PendingSrp>();
  #challengeCounter = 0;

  constructor(clock: SimClock) {
    this.clock = clock;
  }

  create(): AuthSession {
    const session: AuthSession = {
      id: newAuthSessionId(),
      scnt: newScnt(),
      authAttributes: newAuthAttributes(),
      lastSeen: this.clock.now(),
      srpVerified: false,
      codeVerified: false,
      mfaDone: false,
      repairPending: false,
      wrongCodes: 0,
      codesSent: 0,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live (not idle-expired) auth session with this id, whatever scnt the client holds. */
  live(sessionId: string | undefined): AuthSession | undefined {
    if (!sessionId) return undefined;
    const session = this.#sessions.get(sessionId);
    if (!session) return undefined;
    if (session.lastSeen + AUTH_SESSION_IDLE_MS <= this.clock.now()) {
      this.#sessions.delete(sessionId);
      return undefined;
    }
    return session;
  }

  /** Strict variant: the live auth session named by these headers, only when `scnt` is the latest one issued. */
  find(sessionId: string | undefined, scnt: string | undefined): AuthSession | undefined {
    if (!scnt) return undefined;
    const session = this.live(sessionId);
    return session?.scnt === scnt ? session : undefined;
  }

  /** Marks use and rotates scnt; the caller sends the new one back. */
  touch(session: AuthSession): void {
    session.lastSeen = this.clock.now();
    session.scnt = newScnt();
  }

  addPendingSrp(entry: Omit<PendingSrp, "c" | "expiresAt">): PendingSrp {
    this.#challengeCounter += 1;
    const pending: PendingSrp = {
      ...entry,
      c: newChallengeId(this.#challengeCounter),
      expiresAt: this.clock.now() + SRP_EXCHANGE_MS,
    };
    this.#pending.set(pending.c, pending);
    return pending;
  }

  /** The exchange for `c` (its auth context and account), without consuming it. */
  peekPendingSrp(c: string): PendingSrp | undefined {
    return this.#pending.get(c);
  }

  /** Removes and returns the exchange for `c` (each challenge answers one proof). */
  takePendingSrp(c: string): PendingSrp | undefined {
    const pending = this.#pending.get(c);
    this.#pending.delete(c);
    if (!pending || pending.expiresAt <= this.clock.now()) return undefined;
    return pending;
  }

  byId(id: string): AuthSession | undefined {
    return this.#sessions.get(id);
  }
}
