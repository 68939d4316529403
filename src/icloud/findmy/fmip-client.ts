import { EngineError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { ServiceResponse, ServiceTransport } from "../service-transport.ts";
import { type AppleFindMyResponse, AppleFindMyResponseSchema, type AppleServerContext } from "./apple-schema.ts";

const BASE = "/fmipservice/client/web";
/** 450: Find My web session (15 min) over; 421/401: iCloud web session gone. */
const REAUTH_ON = [450, 421, 401] as const;

/** The web app's client context (pyicloud HEAD sends the same). */
function clientContext(family: boolean): Record<string, unknown> {
  return {
    appName: "iCloud Find (Web)",
    appVersion: "2.0",
    apiVersion: "3.0",
    deviceListVersion: 1,
    fmly: family,
    timezone: "UTC",
    inactiveTime: 0,
  };
}

export type FmipActionName = "playSound" | "sendMessage" | "lostDevice";

export interface LocateRequest {
  /** A device id, or "all". */
  selectedDevice: string;
}

/**
 * The Find My wire protocol: initClient once, then refreshClient echoing `serverContext`. When the
 * Find My session ends (450, after the transport has already re-authenticated and retried), the
 * serverContext is dropped and the session started again with initClient.
 */
export class FmipClient {
  readonly #transport: ServiceTransport;
  readonly #family: boolean;
  readonly #log: Logger;
  #serverContext: AppleServerContext | null = null;

  constructor(transport: ServiceTransport, family: boolean, log: Logger) {
    this.#transport = transport;
    this.#family = family;
    this.#log = log;
  }

  /** The last serverContext Apple sent (timing hints), or null before the first answer. */
  get serverContext(): AppleServerContext | null {
    return this.#serverContext;
  }

  /**
   * initClient (first call, or after the session ended) or refreshClient. `locate` asks for a fresh
   * fix of that device (`shouldLocate`); Apple only delivers the fix in answers to such requests, so
   * the follow-up polls of a locate pass it again (timlaing/pyicloud#360).
   */
  async refresh(locate?: LocateRequest): Promise<AppleFindMyResponse> {
    const extra = locate === undefined ? {} : { shouldLocate: true, selectedDevice: locate.selectedDevice };
    for (let attempt = 0; ; attempt += 1) {
      const init = this.#serverContext === null;
      const body: Record<string, unknown> = { clientContext: { ...clientContext(this.#family), ...extra } };
      if (!init) body["serverContext"] = this.#serverContext;
      if (locate?.selectedDevice === "all") body["isUpdatingAllLocations"] = true;
      const response = await this.#post(init ? "initClient" : "refreshClient", body);
      if (response.status === 450 && !init && attempt === 0) {
        this.#log.info("Find My session ended; starting a new one");
        this.#serverContext = null;
        continue;
      }
      return this.#accept(response, init ? "initClient" : "refreshClient");
    }
  }

  /** playSound / sendMessage / lostDevice; answers with the refreshClient envelope. */
  async action(name: FmipActionName, body: Record<string, unknown>): Promise<AppleFindMyResponse> {
    const payload = { ...body, clientContext: { fmly: this.#family } };
    // Never replayed after a connection reset or a malformed answer: Apple may already have played
    // the sound or shown the message. A 450 (refused, so not performed) is retried once.
    let response = await this.#post(name, payload, false);
    if (response.status === 450) {
      this.#log.info("Find My session ended; starting a new one before retrying the action", { action: name });
      this.#serverContext = null;
      await this.refresh();
      response = await this.#post(name, payload, false);
    }
    if (response.status === 400 || response.status === 404) {
      throw new EngineError("NOT_FOUND", `Find My ${name}: Apple does not know device ${String(body["device"])}`, {
        info: { device: body["device"], status: response.status },
      });
    }
    return this.#accept(response, name);
  }

  /** `idempotent` false: the HTTP client must not send it again after a reset or a malformed answer. */
  #post(path: string, body: Record<string, unknown>, idempotent = true): Promise<ServiceResponse> {
    if (this.#transport.serviceUrl("findme") === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", "this account has no Find My web service");
    }
    return this.#transport.request("findme", `${BASE}/${path}`, {
      method: "POST",
      body,
      reauthOn: REAUTH_ON,
      idempotent,
    });
  }

  #accept(response: ServiceResponse, call: string): AppleFindMyResponse {
    if (response.status !== 200) throw errorFor(response.status, call);
    const parsed = AppleFindMyResponseSchema.safeParse(response.json);
    if (!parsed.success) {
      throw new EngineError("UNEXPECTED_RESPONSE", `Find My ${call}: unexpected answer`, {
        info: { issues: parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join(".")}: ${issue.message}`) },
      });
    }
    const statusCode = parsed.data.statusCode;
    if (statusCode !== undefined && String(statusCode) !== "200") throw errorFor(Number(statusCode), call);
    if (parsed.data.serverContext) this.#serverContext = parsed.data.serverContext;
    return parsed.data;
  }
}

function errorFor(status: number, call: string): EngineError {
  const info = { status, call };
  if (status === 450 || status === 421 || status === 401) {
    return new EngineError("SESSION_EXPIRED", `Find My ${call}: session not accepted (${status})`, { info });
  }
  if (status === 429) return new EngineError("RATE_LIMITED", `Find My ${call}: rate limited (429)`, { info });
  if (status >= 500)
    return new EngineError("SERVICE_UNAVAILABLE", `Find My ${call}: Apple answered ${status}`, { info });
  return new EngineError("UNEXPECTED_RESPONSE", `Find My ${call}: Apple answered ${status}`, { info });
}
