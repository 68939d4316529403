import type { Logger } from "../logger.ts";
import { AuthSessions } from "./auth-sessions.ts";
import type { SimClock } from "./context.ts";
import type { Scenario } from "./scenario.ts";
import { type SimAccount, SimAccounts } from "./sim-accounts.ts";
import { newClientId, newSessionToken, newTrustToken, newWebSessionId, newWebToken } from "./tokens.ts";

/** An X-Apple-Session-Token (`dsWebAuthToken`). */
export interface SessionToken {
  value: string;
  account: SimAccount;
  expiresAt: number;
  /** 2FA done (code verified or trusted via trust token) or not needed for this account. */
  mfaDone: boolean;
  repairPending: boolean;
  /** Web session created by accountLogin with this token; the token lives as long as it does. */
  webSessionId?: string;
}

export interface TrustToken {
  value: string;
  account: SimAccount;
  expiresAt: number;
}

export interface WebSession {
  id: string;
  account: SimAccount;
  expiresAt: number;
  /** 2FA (or repair) still outstanding: accountLogin answered with hsaChallengeRequired; services refuse it. */
  restricted: boolean;
  /** Second factor done for the token that opened it (trust is checked per request). */
  mfaDone: boolean;
  repairPending: boolean;
  extendedLogin: boolean;
  /** Value of the (already expired) X-APPLE-WEBAUTH-HSA-LOGIN cookie; validate wants it back. */
  hsaLogin: string;
  clientId: string;
}

interface ValidateToken {
  webSessionId: string;
  expiresAt: number;
}

/** All mutable simulator state, on the injectable clock. */
export type { AuthSession, PendingSrp } from "./auth-sessions.ts";

export class World {
  readonly clock: SimClock;
  readonly accounts: SimAccounts;
  /** idmsa auth contexts and pending SRP exchanges. */
  readonly auth: AuthSessions;
  readonly #sessionTokens = new Map<string, SessionToken>();
  readonly #trustTokens = new Map<string, TrustToken>();
  readonly #webSessions = new Map<string, WebSession>();
  readonly #validateTokens = new Map<string, ValidateToken>();

  constructor(scenario: Scenario, clock: SimClock, log: Logger) {
    this.clock = clock;
    this.accounts = new SimAccounts(scenario, clock, log);
    this.auth = new AuthSessions(clock);
  }

  // --- session and trust tokens ------------------------------------------------------------

  issueSessionToken(account: SimAccount, flags: { mfaDone: boolean; repairPending?: boolean }): SessionToken {
    const token: SessionToken = {
      value: newSessionToken(),
      account,
      expiresAt: this.clock.now() + account.config.lifetimes.session_token,
      mfaDone: flags.mfaDone,
      repairPending: flags.repairPending ?? false,
    };
    this.#sessionTokens.set(token.value, token);
    return token;
  }

  /**
   * A session token is usable for accountLogin until its own lifetime (`session_token`) ends, and
   * after that for as long as the web session it created lives (`web_session`, extended login).
   */
  findSessionToken(value: string): SessionToken | undefined {
    const token = this.#sessionTokens.get(value);
    if (!token) return undefined;
    if (token.expiresAt > this.clock.now()) return token;
    if (token.webSessionId && this.findWebSession(token.webSessionId)) return token;
    return undefined;
  }

  issueTrustToken(account: SimAccount): TrustToken {
    const token: TrustToken = {
      value: newTrustToken(),
      account,
      expiresAt: this.clock.now() + account.config.lifetimes.trust_token,
    };
    this.#trustTokens.set(token.value, token);
    account.stats.trust_tokens_issued += 1;
    return token;
  }

  revokeTrustToken(value: string): void {
    this.#trustTokens.delete(value);
  }

  /** Ends the web session and the session tokens bound to it. */
  endWebSession(id: string): void {
    this.#webSessions.delete(id);
    for (const token of this.#sessionTokens.values()) {
      if (token.webSessionId !== id) continue;
      delete token.webSessionId;
      token.expiresAt = Math.min(token.expiresAt, this.clock.now() - 1);
    }
  }

  findTrustToken(value: string, account: SimAccount): TrustToken | undefined {
    const token = this.#trustTokens.get(value);
    if (!token || token.account !== account || token.expiresAt <= this.clock.now()) return undefined;
    return token;
  }

  // --- web sessions (setup cookies) -----------------------------------------------------------

  newWebSession(account: SimAccount): WebSession {
    const session: WebSession = {
      id: newWebSessionId(),
      account,
      expiresAt: this.clock.now() + account.config.lifetimes.web_session,
      restricted: true,
      mfaDone: false,
      repairPending: false,
      extendedLogin: false,
      hsaLogin: newWebToken(),
      clientId: newClientId(),
    };
    this.#webSessions.set(session.id, session);
    return session;
  }

  findWebSession(id: string | undefined): WebSession | undefined {
    if (!id) return undefined;
    const session = this.#webSessions.get(id);
    if (!session || session.expiresAt <= this.clock.now()) return undefined;
    return session;
  }

  issueValidateToken(session: WebSession): { value: string; expiresAt: number } {
    const value = newWebToken();
    const expiresAt = this.clock.now() + session.account.config.lifetimes.validate_token;
    this.#validateTokens.set(value, { webSessionId: session.id, expiresAt });
    return { value, expiresAt };
  }

  /** The web session an unexpired X-APPLE-WEBAUTH-TOKEN value belongs to. */
  webSessionByValidateToken(value: string | undefined): WebSession | undefined {
    if (!value) return undefined;
    const entry = this.#validateTokens.get(value) ?? this.#validateTokens.get(unquote(value));
    if (!entry || entry.expiresAt <= this.clock.now()) return undefined;
    return this.findWebSession(entry.webSessionId);
  }

  webSessionsOf(account: SimAccount): WebSession[] {
    return [...this.#webSessions.values()].filter((session) => session.account === account);
  }

  /** Admin: ends one kind of credential of an account now. */
  expire(account: SimAccount, what: "validate_token" | "web_session" | "trust" | "session_token"): void {
    const past = this.clock.now() - 1;
    const mine = new Set(this.webSessionsOf(account).map((session) => session.id));
    if (what === "validate_token") {
      for (const entry of this.#validateTokens.values()) if (mine.has(entry.webSessionId)) entry.expiresAt = past;
    } else if (what === "web_session") {
      for (const session of this.webSessionsOf(account)) session.expiresAt = past;
    } else if (what === "trust") {
      for (const token of this.#trustTokens.values()) if (token.account === account) token.expiresAt = past;
    } else {
      for (const token of this.#sessionTokens.values()) {
        if (token.account !== account) continue;
        token.expiresAt = past;
        delete token.webSessionId;
      }
    }
  }
}

export function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
