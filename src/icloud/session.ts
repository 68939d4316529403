import { randomUUID } from "node:crypto";
import { z } from "zod";
import { BridgeError, type ErrorCode, toBridgeError } from "../errors.ts";
import { type Logger, silentLogger } from "../logger.ts";
import type { TwoSvDevice } from "./apple-schemas.ts";
import type { AuthContext } from "./auth-context.ts";
import {
  accountLogin,
  fetchAuthOptions,
  fetchTrust,
  listTwoSvDevices,
  repairComplete,
  requestPhoneCode,
  sendTwoSvCode,
  srpSignIn,
  submitHsa2Code,
  triggerDeviceCode,
  validateSession,
  validateTwoSvCode,
} from "./auth-steps.ts";
import { AppleCookieJar } from "./cookie-jar.ts";
import { resolveEndpoints } from "./endpoints.ts";
import { HttpClient } from "./http.ts";
import { passwordCheck, samePassword } from "./password-check.ts";
import { downloadUrl, serviceCall, webserviceUrl } from "./service-calls.ts";
import type {
  DownloadResponse,
  ServiceRequestOptions,
  ServiceResponse,
  ServiceTransport,
  WebserviceName,
} from "./service-transport.ts";
import { phoneChoice, snapshotOf, twoSvChoice } from "./session-snapshot.ts";
import type { SessionStore, StoredSession } from "./session-store.ts";
import type {
  CodeMethod,
  ICloudSessionOptions,
  RequestCodeOptions,
  SessionListener,
  SessionSnapshot,
  SessionState,
  SignInOptions,
  TrustedPhoneNumber,
} from "./session-types.ts";

type Pending =
  | { kind: "hsa2"; method: CodeMethod; phoneId?: number; phones: TrustedPhoneNumber[]; choosing?: "sms" | "voice" }
  | { kind: "2sv"; devices: TwoSvDevice[]; chosen?: TwoSvDevice };

const hsa2CodeSchema = z.string().regex(/^\d{6}$/, "the code has 6 digits");
const twoSvCodeSchema = z.string().regex(/^\d{4,8}$/, "the code has 4 to 8 digits");
const requestCodeSchema = z.object({
  method: z.enum(["device", "sms", "voice"]),
  phoneNumberId: z.number().int().optional(),
});

/**
 * An iCloud web session for one account: the sign-in ladder (validate → accountLogin with stored
 * tokens → SRP → 2FA/2SV with a human in the loop) and the transport the data services use.
 *
 * Public sign-in methods resolve with a snapshot; a failed step leaves `state: "failed"` with a
 * ricloud-style `error` (`code-required`, `choice-required`, ...). They only throw for misuse
 * (INVALID_INPUT, INVALID_STATE).
 *
 * Blocked rule: after Apple refuses the password (invalid-credentials) or reports the account
 * locked, no further SRP sign-in is attempted automatically, also across restarts, until the
 * password changes (`setPassword` / constructor with a different password) or a caller passes
 * `{ force: true }` (the `login` command does). Stored tokens (validate/accountLogin) are still used.
 */
export class ICloudSession implements ServiceTransport {
  readonly username: string;
  readonly #ctx: AuthContext;
  readonly #store: SessionStore | undefined;
  readonly #log: Logger;
  #password: string | undefined;
  #state: SessionState = "pending";
  #error: BridgeError | undefined;
  #pending: Pending | undefined;
  readonly #listeners = new Set<SessionListener>();
  #queue: Promise<unknown> = Promise.resolve();
  #saving: Promise<void> = Promise.resolve();
  #reauth: Promise<void> | undefined;
  #generation = 0;
  #loaded = false;

  constructor(options: ICloudSessionOptions) {
    this.username = options.username;
    this.#password = options.password;
    this.#store = options.store;
    this.#log = (options.logger ?? silentLogger).child({ username: options.username });
    this.#ctx = {
      http: new HttpClient({ ...options.http, logger: options.http?.logger ?? this.#log }),
      endpoints: resolveEndpoints(options),
      data: freshData(options.username),
      log: this.#log,
      persist: () => this.#persist(),
    };
  }

  /** Creates a session and loads what the store holds for the account. */
  static async open(options: ICloudSessionOptions): Promise<ICloudSession> {
    const session = new ICloudSession(options);
    await session.load();
    return session;
  }

  /** Loads the stored session (tokens, cookies). A corrupt file counts as no session. */
  async load(): Promise<void> {
    this.#loaded = true;
    const stored = await this.#store?.load(this.username);
    if (!stored) return;
    this.#ctx.data = stored;
    try {
      this.#ctx.http.jar = AppleCookieJar.fromSerialized(stored.cookies);
    } catch {
      this.#log.warn("stored cookies are unreadable; starting with an empty cookie jar");
      this.#ctx.http.jar = new AppleCookieJar();
    }
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The current error as a BridgeError (undefined unless failed/expired with an error). */
  get error(): BridgeError | undefined {
    return this.#error;
  }

  snapshot(): SessionSnapshot {
    const awaiting = this.#awaiting();
    return snapshotOf(this.username, this.#state, this.#error, this.#ctx, awaiting);
  }

  /** Called with a fresh snapshot after every state/error change. Returns an unsubscribe function. */
  onChange(listener: SessionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  setPassword(password: string): void {
    this.#password = password;
  }

  /** Runs the sign-in ladder. Resolves with the snapshot (active, or failed with an error). */
  signIn(options: SignInOptions = {}): Promise<SessionSnapshot> {
    return this.#exclusive(async () => {
      if (!this.#loaded) await this.load();
      this.#pending = undefined;
      this.#set("pending", undefined);
      try {
        await this.#ladder(options.force === true);
      } catch (error) {
        this.#fail(error);
      }
      return this.snapshot();
    });
  }

  /** A full sign-in again; with `force` even after invalid-credentials / account-locked. */
  reauthenticate(options: SignInOptions = {}): Promise<SessionSnapshot> {
    return this.signIn(options);
  }

  /** Submits the 2FA/2SV code the user received (6 digits; leading zeros kept). */
  submitCode(code: string): Promise<SessionSnapshot> {
    return this.#exclusive(async () => {
      const pending = this.#pending;
      if (
        pending === undefined ||
        (pending.kind === "hsa2" && pending.choosing) ||
        (pending.kind === "2sv" && !pending.chosen)
      ) {
        throw new BridgeError("INVALID_STATE", "no verification code is expected now");
      }
      const parsed = (pending.kind === "hsa2" ? hsa2CodeSchema : twoSvCodeSchema).safeParse(
        typeof code === "string" ? code.trim() : code,
      );
      if (!parsed.success)
        throw new BridgeError("INVALID_INPUT", "the verification code must be a string of digits (6 for two-factor)");
      try {
        const ok =
          pending.kind === "hsa2"
            ? await submitHsa2Code(
                this.#ctx,
                parsed.data,
                pending.method === "device"
                  ? { method: "device" }
                  : { method: pending.method, phoneId: pending.phoneId ?? 0 },
              )
            : await validateTwoSvCode(this.#ctx, pending.chosen as TwoSvDevice, parsed.data);
        if (!ok) throw this.#codeError("CODE_INVALID", "Incorrect verification code");
        this.#log.info("verification code accepted");
        this.#pending = undefined;
        if (pending.kind === "hsa2") await fetchTrust(this.#ctx);
        await this.#finishLogin();
      } catch (error) {
        this.#fail(error);
      }
      return this.snapshot();
    });
  }

  /** Sends a new HSA2 code: to the trusted devices, or by SMS / voice call to a trusted number. */
  requestCode(options: RequestCodeOptions): Promise<SessionSnapshot> {
    return this.#exclusive(async () => {
      const pending = this.#pending;
      if (pending?.kind !== "hsa2")
        throw new BridgeError("INVALID_STATE", "codes can only be requested during a two-factor sign-in");
      const parsed = requestCodeSchema.safeParse(options);
      if (!parsed.success) throw new BridgeError("INVALID_INPUT", "method must be device, sms or voice");
      const { method, phoneNumberId } = parsed.data;
      try {
        if (method === "device") {
          if (!(await triggerDeviceCode(this.#ctx)))
            throw new BridgeError("UNEXPECTED_RESPONSE", "Apple refused to send a code to the devices");
          Object.assign(pending, { method, phoneId: undefined, choosing: undefined });
          throw this.#codeError("CODE_REQUIRED", "Enter the code shown on a trusted device");
        }
        if (pending.phones.length === 0) pending.phones = (await fetchAuthOptions(this.#ctx)).trustedPhoneNumbers;
        const phone =
          phoneNumberId !== undefined
            ? pending.phones.find((p) => p.id === phoneNumberId)
            : pending.phones.length === 1
              ? pending.phones[0]
              : undefined;
        if (phoneNumberId !== undefined && phone === undefined)
          throw new BridgeError("INVALID_INPUT", "unknown trusted phone number id");
        if (phone === undefined) {
          if (pending.phones.length === 0)
            throw new BridgeError("INVALID_STATE", "the account has no trusted phone number");
          pending.choosing = method;
          throw this.#choiceError(pending.phones.map((p) => phoneChoice(p, method)));
        }
        await this.#sendPhoneCode(pending, phone, method);
      } catch (error) {
        if (error instanceof BridgeError && (error.code === "INVALID_INPUT" || error.code === "INVALID_STATE"))
          throw error;
        this.#fail(error);
      }
      return this.snapshot();
    });
  }

  /** Picks one of `error_info.choices` (a 2SV device, or a phone number for SMS/voice). */
  submitChoice(choice: string | number): Promise<SessionSnapshot> {
    return this.#exclusive(async () => {
      const pending = this.#pending;
      const wanted = String(choice).trim();
      try {
        if (pending?.kind === "2sv") {
          const device = pending.devices.find((d) => twoSvChoice(d) === wanted || d.deviceId === wanted);
          if (device === undefined) throw new BridgeError("INVALID_INPUT", "unknown choice");
          await sendTwoSvCode(this.#ctx, device);
          pending.chosen = device;
          throw this.#codeError("CODE_REQUIRED", "Enter the code sent to the chosen device");
        }
        if (pending?.kind === "hsa2" && pending.choosing !== undefined) {
          const mode = pending.choosing;
          const phone = pending.phones.find((p) => phoneChoice(p, mode) === wanted || String(p.id) === wanted);
          if (phone === undefined) throw new BridgeError("INVALID_INPUT", "unknown choice");
          await this.#sendPhoneCode(pending, phone, mode);
        }
        throw new BridgeError("INVALID_STATE", "no choice is expected now");
      } catch (error) {
        if (error instanceof BridgeError && (error.code === "INVALID_INPUT" || error.code === "INVALID_STATE"))
          throw error;
        this.#fail(error);
      }
      return this.snapshot();
    });
  }

  // ---- ServiceTransport ----

  serviceUrl(name: WebserviceName): string | undefined {
    return webserviceUrl(this.#ctx, name);
  }

  async request(service: WebserviceName, path: string, options: ServiceRequestOptions = {}): Promise<ServiceResponse> {
    if (this.#ctx.data.webservices === undefined || this.#ctx.data.dsid === undefined) {
      throw new BridgeError("NOT_SIGNED_IN", "the iCloud session is not signed in");
    }
    const reauthOn = options.reauthOn ?? [401, 421];
    const generation = this.#generation;
    const first = await serviceCall(this.#ctx, service, path, options);
    if (!reauthOn.includes(first.status)) return first;
    this.#log.info("service refused the web session; revalidating", { service, status: first.status });
    await this.#revalidate(generation);
    return serviceCall(this.#ctx, service, path, options);
  }

  download(
    url: string,
    options?: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<DownloadResponse> {
    return downloadUrl(this.#ctx, url, options);
  }

  /** Waits for pending writes of the session file. */
  async flush(): Promise<void> {
    await this.#saving;
  }

  // ---- internals ----

  async #ladder(force: boolean): Promise<void> {
    const validated = await validateSession(this.#ctx);
    if (validated === "ok") return this.#activate("validate");
    const loggedIn = await accountLogin(this.#ctx);
    if (loggedIn === "ok") return this.#activate("accountLogin");
    await this.#srp(force);
  }

  async #srp(force: boolean): Promise<void> {
    const data = this.#ctx.data;
    const password = this.#password;
    if (data.blocked !== undefined && !force) {
      const check = data.blocked.password_check;
      const changed = password !== undefined && check !== undefined && !samePassword(password, check);
      if (!changed) {
        const code: ErrorCode = data.blocked.error === "account-locked" ? "ACCOUNT_LOCKED" : "INVALID_CREDENTIALS";
        throw new BridgeError(
          code,
          `Apple refused the last sign-in (${data.blocked.error}); not retrying automatically`,
          {
            info: { blocked_since: data.blocked.since },
          },
        );
      }
    }
    if (password === undefined) throw new BridgeError("NOT_SIGNED_IN", "a password is needed to sign in again");
    let outcome: Awaited<ReturnType<typeof srpSignIn>>;
    try {
      outcome = await srpSignIn(this.#ctx, password);
    } catch (error) {
      if (error instanceof BridgeError && (error.code === "INVALID_CREDENTIALS" || error.code === "ACCOUNT_LOCKED")) {
        data.blocked = {
          error: error.code === "ACCOUNT_LOCKED" ? "account-locked" : "invalid-credentials",
          since: new Date().toISOString(),
          password_check: passwordCheck(password),
        };
        await this.#persist();
      }
      throw error;
    }
    data.blocked = undefined;
    if (outcome === "hsa2") return this.#startHsa2();
    if (outcome === "repair") await repairComplete(this.#ctx);
    await this.#finishLogin();
  }

  async #finishLogin(): Promise<void> {
    const outcome = await accountLogin(this.#ctx);
    if (outcome === undefined)
      throw new BridgeError("UNEXPECTED_RESPONSE", "accountLogin refused a fresh session token");
    if (outcome === "ok") return this.#activate("sign-in");
    if (outcome === "hsa2") return this.#startHsa2();
    const devices = await listTwoSvDevices(this.#ctx);
    this.#pending = { kind: "2sv", devices };
    throw this.#choiceError(devices.map(twoSvChoice));
  }

  async #startHsa2(): Promise<void> {
    const options = await fetchAuthOptions(this.#ctx);
    if (options.securityKey)
      throw new BridgeError("SECURITY_KEY_REQUIRED", "This account uses security keys, which the bridge cannot use");
    const phones = options.trustedPhoneNumbers;
    if (await triggerDeviceCode(this.#ctx)) {
      this.#pending = { kind: "hsa2", method: "device", phones };
      throw this.#codeError("CODE_REQUIRED", "Enter the code shown on a trusted device");
    }
    const phone = phones[0];
    if (phone === undefined)
      throw new BridgeError("UNEXPECTED_RESPONSE", "no trusted device or phone number can receive a code");
    const pending: Pending = { kind: "hsa2", method: "sms", phones };
    this.#pending = pending;
    await this.#sendPhoneCode(pending, phone, "sms");
  }

  async #sendPhoneCode(
    pending: Pending & { kind: "hsa2" },
    phone: TrustedPhoneNumber,
    mode: "sms" | "voice",
  ): Promise<never> {
    await requestPhoneCode(this.#ctx, phone.id, mode);
    Object.assign(pending, { method: mode, phoneId: phone.id, choosing: undefined });
    throw this.#codeError(
      "CODE_REQUIRED",
      mode === "sms" ? "Enter the code sent by SMS" : "Enter the code read out by the voice call",
    );
  }

  #codeError(code: "CODE_REQUIRED" | "CODE_INVALID", message: string): BridgeError {
    const pending = this.#pending;
    const info: Record<string, unknown> = {};
    if (pending?.kind === "hsa2")
      Object.assign(info, { method: pending.method, trusted_phone_numbers: pending.phones });
    if (pending?.kind === "2sv") info["method"] = "2sv";
    return new BridgeError(code, message, { info });
  }

  #choiceError(choices: string[]): BridgeError {
    const pending = this.#pending;
    const info: Record<string, unknown> = { choices };
    if (pending?.kind === "hsa2") info["trusted_phone_numbers"] = pending.phones;
    return new BridgeError("CHOICE_REQUIRED", "Choose where to send the verification code", { info });
  }

  async #revalidate(generation: number): Promise<void> {
    if (this.#generation !== generation) return;
    if (this.#reauth === undefined) {
      this.#reauth = this.#exclusive(async () => {
        if (this.#generation !== generation) return;
        this.#set("expired", undefined);
        try {
          await this.#ladder(false);
        } catch (error) {
          this.#fail(error);
          throw toBridgeError(error);
        }
      }).finally(() => {
        this.#reauth = undefined;
      });
    }
    await this.#reauth;
  }

  async #activate(via: string): Promise<void> {
    this.#pending = undefined;
    this.#ctx.data.blocked = undefined;
    this.#generation += 1;
    this.#log.info("iCloud session active", { via });
    await this.#persist();
    this.#set("active", undefined);
  }

  #fail(error: unknown): void {
    const err = toBridgeError(error);
    const transient = err.retryable && err.code !== "CODE_INVALID";
    const state: SessionState = this.#state === "expired" && transient ? "expired" : "failed";
    if (err.code === "CODE_REQUIRED" || err.code === "CHOICE_REQUIRED" || err.code === "CODE_INVALID") {
      this.#log.info("sign-in needs the user", { error: err.sessionError });
    } else {
      this.#log.warn("sign-in failed", { error: err.sessionError, reason: err.message });
    }
    this.#set(state, err);
  }

  #set(state: SessionState, error: BridgeError | undefined): void {
    this.#state = state;
    this.#error = error;
    const snapshot = this.snapshot();
    for (const listener of this.#listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.#log.warn("session listener threw", { reason: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  #awaiting(): "code" | "choice" | null {
    const p = this.#pending;
    if (p === undefined) return null;
    if (p.kind === "2sv") return p.chosen === undefined ? "choice" : "code";
    return p.choosing === undefined ? "code" : "choice";
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #persist(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    this.#ctx.data.cookies = this.#ctx.http.jar.serialize();
    const copy: StoredSession = structuredClone(this.#ctx.data);
    this.#saving = this.#saving
      .then(() => store.save(copy))
      .catch((error: unknown) => {
        this.#log.warn("could not save the session", {
          reason: error instanceof Error ? error.message : String(error),
        });
      });
    return this.#saving;
  }
}

function freshData(username: string): StoredSession {
  return { version: 1, username, client_id: `auth-${randomUUID()}`, srp_sign_ins: 0 };
}
