import type { Readable } from "node:stream";

/** Names of the webservices advertised by `accountLogin` that the bridge uses. */
export type WebserviceName = "findme" | "ckdatabasews" | "callhistory" | (string & {});

export interface ServiceRequestOptions {
  method?: "GET" | "POST";
  /** Serialised as JSON. */
  body?: unknown;
  /** Extra query parameters; the transport adds clientBuildNumber, clientMasteringNumber, clientId and dsid. */
  query?: Record<string, string>;
  /** Request content type; CloudKit accepts `text/plain` and `application/json`. Defaults to JSON. */
  contentType?: string;
  /** Statuses that mean "the web session is gone": revalidate once and retry once. Defaults to [401, 421]. */
  reauthOn?: readonly number[];
  /**
   * Whether the HTTP client may send the request again after a connection error or a malformed
   * answer (Apple may already have acted on it). Default true, which suits reads; actions with a
   * visible effect (Find My playSound, sendMessage, lostDevice) pass false so they are never replayed.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface ServiceResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined for an empty body. Callers parse it with zod. */
  json: unknown;
}

export interface DownloadResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
}

/**
 * What a signed-in iCloud session offers to the data services (Find My, Photos, calls).
 * Implemented by the session; services never see passwords, tokens or cookies.
 */
export interface ServiceTransport {
  /** Base URL of a webservice from accountLogin, or undefined when the account does not offer it. */
  serviceUrl(name: WebserviceName): string | undefined;
  /**
   * A request to `serviceUrl(service) + path`. Adds the common query parameters and cookies.
   * On a `reauthOn` status it revalidates the session once (validate → accountLogin with stored
   * tokens; full SRP only when those fail) and retries once. 429/503 are retried with backoff and
   * then raised as RATE_LIMITED / SERVICE_UNAVAILABLE. Other statuses are returned to the caller.
   */
  request(service: WebserviceName, path: string, options?: ServiceRequestOptions): Promise<ServiceResponse>;
  /** GET of an absolute URL (photo downloads) with the session's cookies; the body is streamed. */
  download(
    url: string,
    options?: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<DownloadResponse>;
}
