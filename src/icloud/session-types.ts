import type { SessionErrorName } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { TrustedPhoneNumber } from "./auth-options.ts";
import type { EndpointOptions } from "./endpoints.ts";
import type { HttpClientOptions } from "./http.ts";
import type { SessionSharingOptions } from "./session-sharing.ts";
import type { SessionStore } from "./session-store.ts";

export type { TrustedPhoneNumber } from "./auth-options.ts";

/**
 * `pending`: not signed in yet / sign-in running. `active`: signed in, services usable.
 * `failed`: the last sign-in step failed; `error` says why (a human may be needed).
 * `expired`: was active, the web session was found gone and is being (or could not be) restored.
 */
export type SessionState = "pending" | "active" | "failed" | "expired";

/** The process holding an account's sign-in lock; all null when its lock file could not be read. */
export interface SignInHolder {
  pid: number | null;
  host: string | null;
  command: string | null;
  /** ISO time it took the lock. */
  since: string | null;
}

export type CodeMethod = "device" | "sms" | "voice";

export interface SessionErrorInfo {
  /** `choice-required`: the strings accepted by `submitChoice`. */
  choices?: string[];
  /** HSA2: the account's trusted phone numbers (for `requestCode`). */
  trusted_phone_numbers?: TrustedPhoneNumber[];
  /** `code-required`: where the code was sent. */
  method?: CodeMethod | "2sv";
  /** `rate-limited` / `service-unavailable`: seconds to wait, when Apple said so. */
  retry_after?: number;
  /** Apple's answer that caused the failure, when useful. */
  status?: number;
  /** `sign-in-busy`: the process that is signing in to the account. */
  holder?: SignInHolder;
}

/** Plain JSON view of the session; never holds secrets. */
export interface SessionSnapshot {
  username: string;
  state: SessionState;
  error: SessionErrorName | null;
  error_info: SessionErrorInfo | null;
  /** Human-readable text of the error. */
  message: string | null;
  /** ISO time the 2FA trust ("remembered browser") ends, from the X-APPLE-WEBAUTH-HSA-TRUST cookie. */
  trust_expires_at: string | null;
  /** Full SRP sign-ins done for this account (each one e-mails the user). */
  srp_sign_ins: number;
  /** 2 = two-factor (HSA2), 1 = legacy two-step, 0 = none; null before the first login. */
  hsa_version: number | null;
  /** Names of the webservices the account offers. */
  webservices: string[];
  /** Whether a code/choice submission is expected now. */
  awaiting: "code" | "choice" | null;
  /** Set while this session waits for another process's sign-in to the account (see SessionSharing). */
  waiting_for: SignInHolder | null;
}

export type SessionListener = (snapshot: SessionSnapshot) => void;

export interface ICloudSessionOptions extends EndpointOptions {
  username: string;
  /** The Apple ID password; only needed when a full SRP sign-in is necessary. */
  password?: string;
  /** Where the session is persisted; without it, nothing is persisted. */
  store?: SessionStore;
  http?: HttpClientOptions;
  logger?: Logger;
  /** Waiting for, and taking over, sign-ins of other processes on the same store (defaults suit Apple). */
  sharing?: SessionSharingOptions;
  /**
   * Called before every full (SRP) sign-in; throwing refuses it (the sign-in fails with that error).
   * The engine's per-account budget of full sign-ins (each one e-mails the user).
   */
  beforeFullSignIn?: () => void;
}

export interface SignInOptions {
  /**
   * Allow a full SRP sign-in even though the last one was refused with invalid-credentials or
   * account-locked (see the "blocked" rule on ICloudSession).
   */
  force?: boolean;
}

export interface RequestCodeOptions {
  method: CodeMethod;
  /** Trusted phone number id for sms/voice; when omitted and several exist, `choice-required`. */
  phoneNumberId?: number;
}
