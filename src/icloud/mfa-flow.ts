import { z } from "zod";
import { EngineError, type ErrorCode } from "../errors.ts";
import type { TwoSvDevice } from "./apple-schemas.ts";
import type { AuthContext } from "./auth-context.ts";
import {
  fetchAuthOptions,
  fetchTrust,
  listTwoSvDevices,
  requestPhoneCode,
  sendTwoSvCode,
  submitHsa2Code,
  triggerDeviceCode,
  validateTwoSvCode,
} from "./auth-steps.ts";
import { phoneChoice, twoSvChoice } from "./session-snapshot.ts";
import type { CodeMethod, TrustedPhoneNumber } from "./session-types.ts";

type Hsa2Pending = {
  kind: "hsa2";
  method: CodeMethod;
  phoneId?: number;
  phones: TrustedPhoneNumber[];
  choosing?: "sms" | "voice";
};
type TwoSvPending = { kind: "2sv"; devices: TwoSvDevice[]; chosen?: TwoSvDevice };

const hsa2CodeSchema = z.string().regex(/^\d{6}$/);
const twoSvCodeSchema = z.string().regex(/^\d{4,8}$/);
/** How long an interrupted step of a sign-in may be resumed instead of signing in again (Apple's auth session lives longer). */
const RESUME_MS = 5 * 60_000;
type ResumableStep = "hsa2" | "2sv" | "trust";
/** Step outcomes that are the user's turn or Apple's final word: nothing to resume. */
const FINAL = new Set<ErrorCode>(["CODE_REQUIRED", "CHOICE_REQUIRED", "SECURITY_KEY_REQUIRED", "INVALID_INPUT"]);

const requestCodeSchema = z.object({
  method: z.enum(["device", "sms", "voice"]),
  phoneNumberId: z.number().int().optional(),
});

/**
 * The human-in-the-loop part of a sign-in (HSA2 codes by device/SMS/voice, legacy 2SV device
 * choice + code). Steps that leave the user something to do throw CODE_REQUIRED / CHOICE_REQUIRED.
 */
export class MfaFlow {
  readonly #ctx: AuthContext;
  #pending: Hsa2Pending | TwoSvPending | undefined;
  /**
   * A step after Apple accepted the password (or the code) that failed for a transient reason.
   * Resuming it avoids another full sign-in (an e-mail to the user) and another code.
   */
  #interrupted: { step: ResumableStep; since: number } | undefined;

  constructor(ctx: AuthContext) {
    this.#ctx = ctx;
  }

  /** Forgets the awaited code or choice; `signedIn` also forgets an interrupted step. */
  reset(signedIn = false): void {
    this.#pending = undefined;
    if (signedIn) this.#interrupted = undefined;
  }

  awaiting(): "code" | "choice" | null {
    const p = this.#pending;
    if (p === undefined) return null;
    if (p.kind === "2sv") return p.chosen === undefined ? "choice" : "code";
    return p.choosing === undefined ? "code" : "choice";
  }

  /**
   * Resumes an interrupted step, if one is recent: resolves true when the caller should finish the
   * login (the trust step), throws what the step throws (CODE_REQUIRED when a code was sent; a
   * transient error keeps it resumable), and resolves false when it fails for good (Apple no longer
   * knows that sign-in): the caller signs in again.
   */
  async resume(): Promise<boolean> {
    const interrupted = this.#interrupted;
    this.#interrupted = undefined;
    if (interrupted === undefined || Date.now() - interrupted.since > RESUME_MS) return false;
    this.#ctx.log.info("resuming the interrupted sign-in", { step: interrupted.step });
    try {
      if (interrupted.step === "hsa2") await this.startHsa2();
      else if (interrupted.step === "2sv") await this.startTwoSv();
      else await this.#resumable("trust", () => fetchTrust(this.#ctx));
      return true;
    } catch (error) {
      const e = error instanceof EngineError ? error : undefined;
      // Still failing: try again later. SESSION_EXPIRED (401): Apple forgot that sign-in, start anew.
      const gone = e !== undefined && (e.code === "SESSION_EXPIRED" || !e.retryable);
      if (e === undefined || !gone || e.code === "CODE_REQUIRED" || e.code === "CHOICE_REQUIRED") throw error;
      this.#ctx.log.info("the interrupted sign-in cannot be resumed; signing in again", { reason: e.message });
      return false;
    }
  }

  /** Runs a step; a failure (other than the user's turn or a final answer) leaves it to `resume`. */
  async #resumable<T>(step: ResumableStep, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof EngineError && FINAL.has(error.code))) this.#interrupted = { step, since: Date.now() };
      throw error;
    }
  }

  /** After a 409: read the phones, make the devices show a code (SMS to the first phone if that fails). */
  async startHsa2(): Promise<never> {
    return this.#resumable("hsa2", () => this.#startHsa2());
  }

  async #startHsa2(): Promise<never> {
    const options = await fetchAuthOptions(this.#ctx);
    if (options.securityKey)
      throw new EngineError("SECURITY_KEY_REQUIRED", "This account uses security keys, which the bridge cannot use");
    const phones = options.trustedPhoneNumbers;
    if (await triggerDeviceCode(this.#ctx)) {
      this.#pending = { kind: "hsa2", method: "device", phones };
      throw this.#codeError("CODE_REQUIRED", "Enter the code shown on a trusted device");
    }
    const phone = phones[0];
    if (phone === undefined)
      throw new EngineError("UNEXPECTED_RESPONSE", "no trusted device or phone number can receive a code");
    const pending: Hsa2Pending = { kind: "hsa2", method: "sms", phones };
    this.#pending = pending;
    return this.#sendPhoneCode(pending, phone, "sms");
  }

  /** accountLogin asked for legacy 2SV: list the devices to choose from. */
  async startTwoSv(): Promise<never> {
    const devices = await this.#resumable("2sv", () => listTwoSvDevices(this.#ctx));
    this.#pending = { kind: "2sv", devices };
    throw this.#choiceError(devices.map(twoSvChoice));
  }

  async requestCode(options: { method: CodeMethod; phoneNumberId?: number }): Promise<never> {
    const pending = this.#pending;
    if (pending?.kind !== "hsa2")
      throw new EngineError("INVALID_STATE", "codes can only be requested during a two-factor sign-in");
    const parsed = requestCodeSchema.safeParse(options);
    if (!parsed.success) throw new EngineError("INVALID_INPUT", "method must be device, sms or voice");
    const { method, phoneNumberId } = parsed.data;
    if (method === "device") {
      if (!(await triggerDeviceCode(this.#ctx)))
        throw new EngineError("UNEXPECTED_RESPONSE", "Apple refused to send a code to the devices");
      Object.assign(pending, { method, phoneId: undefined, choosing: undefined });
      throw this.#codeError("CODE_REQUIRED", "Enter the code shown on a trusted device");
    }
    if (pending.phones.length === 0) pending.phones = (await fetchAuthOptions(this.#ctx)).trustedPhoneNumbers;
    const phones = pending.phones;
    const phone =
      phoneNumberId !== undefined
        ? phones.find((p) => p.id === phoneNumberId)
        : phones.length === 1
          ? phones[0]
          : undefined;
    if (phoneNumberId !== undefined && phone === undefined)
      throw new EngineError("INVALID_INPUT", "unknown trusted phone number id");
    if (phone === undefined) {
      if (phones.length === 0) throw new EngineError("INVALID_STATE", "the account has no trusted phone number");
      pending.choosing = method;
      throw this.#choiceError(phones.map((p) => phoneChoice(p, method)));
    }
    return this.#sendPhoneCode(pending, phone, method);
  }

  async submitChoice(choice: string | number): Promise<never> {
    const pending = this.#pending;
    const wanted = String(choice).trim();
    if (pending?.kind === "2sv") {
      const device = pending.devices.find((d) => twoSvChoice(d) === wanted || d.deviceId === wanted);
      if (device === undefined) throw new EngineError("INVALID_INPUT", "unknown choice");
      await sendTwoSvCode(this.#ctx, device);
      pending.chosen = device;
      throw this.#codeError("CODE_REQUIRED", "Enter the code sent to the chosen device");
    }
    if (pending?.kind === "hsa2" && pending.choosing !== undefined) {
      const mode = pending.choosing;
      const phone = pending.phones.find((p) => phoneChoice(p, mode) === wanted || String(p.id) === wanted);
      if (phone === undefined) throw new EngineError("INVALID_INPUT", "unknown choice");
      return this.#sendPhoneCode(pending, phone, mode);
    }
    throw new EngineError("INVALID_STATE", "no choice is expected now");
  }

  /** Checks the input (INVALID_STATE / INVALID_INPUT) before any network call. */
  checkCode(code: string): string {
    const pending = this.#pending;
    if (pending === undefined || this.awaiting() !== "code")
      throw new EngineError("INVALID_STATE", "no verification code is expected now");
    const parsed = (pending.kind === "hsa2" ? hsa2CodeSchema : twoSvCodeSchema).safeParse(
      typeof code === "string" ? code.trim() : code,
    );
    if (!parsed.success)
      throw new EngineError("INVALID_INPUT", "the verification code must be a string of digits (6 for two-factor)");
    return parsed.data;
  }

  /** Verifies a code (CODE_INVALID keeps the flow open); on success stores the trust token. */
  async verify(code: string): Promise<void> {
    const pending = this.#pending;
    if (pending === undefined) throw new EngineError("INVALID_STATE", "no verification code is expected now");
    let ok: boolean;
    if (pending.kind === "2sv") {
      if (pending.chosen === undefined) throw new EngineError("INVALID_STATE", "choose a device first");
      ok = await validateTwoSvCode(this.#ctx, pending.chosen, code);
    } else {
      const via =
        pending.method === "device"
          ? { method: "device" as const }
          : { method: pending.method, phoneId: pending.phoneId ?? 0 };
      try {
        ok = await submitHsa2Code(this.#ctx, code, via);
      } catch (error) {
        // Code entry is locked for this sign-in: no code can be entered any more; a later sign-in starts over.
        if (error instanceof EngineError && error.info["reason"] === "security-code-locked") this.#pending = undefined;
        throw error;
      }
    }
    if (!ok) throw this.#codeError("CODE_INVALID", "Incorrect verification code");
    this.#ctx.log.info("verification code accepted");
    this.#pending = undefined;
    // Apple accepted the code; a transient failure of the trust step is resumed, not a new sign-in.
    if (pending.kind === "hsa2") await this.#resumable("trust", () => fetchTrust(this.#ctx));
  }

  async #sendPhoneCode(pending: Hsa2Pending, phone: TrustedPhoneNumber, mode: "sms" | "voice"): Promise<never> {
    await requestPhoneCode(this.#ctx, phone.id, mode);
    Object.assign(pending, { method: mode, phoneId: phone.id, choosing: undefined });
    throw this.#codeError(
      "CODE_REQUIRED",
      mode === "sms" ? "Enter the code sent by SMS" : "Enter the code read out by the voice call",
    );
  }

  #codeError(code: "CODE_REQUIRED" | "CODE_INVALID", message: string): EngineError {
    const pending = this.#pending;
    const info: Record<string, unknown> = {};
    if (pending?.kind === "hsa2")
      Object.assign(info, { method: pending.method, trusted_phone_numbers: pending.phones });
    if (pending?.kind === "2sv") info["method"] = "2sv";
    return new EngineError(code, message, { info });
  }

  #choiceError(choices: string[]): EngineError {
    const pending = this.#pending;
    const info: Record<string, unknown> = { choices };
    if (pending?.kind === "hsa2") info["trusted_phone_numbers"] = pending.phones;
    return new EngineError("CHOICE_REQUIRED", "Choose where to send the verification code", { info });
  }
}
