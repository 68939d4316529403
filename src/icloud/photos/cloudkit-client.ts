import type { z } from "zod";
import { EngineError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { RETRYABLE_CODES } from "../cloudkit/server-codes.ts";
import type { ServiceTransport } from "../service-transport.ts";
import { ServerErrorSchema } from "./cloudkit-schemas.ts";
import type { PhotoDatabase } from "./types.ts";

export const CONTAINER_PATH = "/database/1/com.apple.photos.cloud/production";

/** Fix shown whenever CloudKit refuses the private database. */
export const WEB_ACCESS_FIX =
  "iCloud refused access to the photo library (ACCESS_DENIED). On your iPhone turn on Settings → [your name] → " +
  "iCloud → Access iCloud Data on the Web, and turn off Advanced Data Protection; then wait a few minutes.";

export { RETRYABLE_CODES };

/** Maps a CloudKit `serverErrorCode` (response, zone or record level) to the bridge's error. */
export function serverError(code: string, reason: string | undefined, status?: number): EngineError {
  const info = { server_error_code: code, ...(status === undefined ? {} : { status }) };
  if (code === "ACCESS_DENIED") return new EngineError("WEB_ACCESS_DISABLED", WEB_ACCESS_FIX, { info });
  if (RETRYABLE_CODES.has(code)) {
    return new EngineError("RATE_LIMITED", `iCloud Photos asked to retry later (${code})`, { info });
  }
  if (code === "AUTHENTICATION_FAILED" && reason?.toLowerCase().includes("no auth method")) {
    return new EngineError(
      "SECURITY_KEY_REQUIRED",
      "iCloud Photos refused the session: the account uses security keys",
      {
        info,
      },
    );
  }
  if (code === "ZONE_NOT_FOUND" || code === "AUTHENTICATION_FAILED") {
    return new EngineError(
      "SERVICE_NOT_AVAILABLE",
      `iCloud Photos is not set up for this account (${code}); sign in to icloud.com once and open Photos`,
      { info },
    );
  }
  return new EngineError("UNEXPECTED_RESPONSE", `CloudKit error ${code}${reason ? `: ${reason}` : ""}`, { info });
}

export interface CloudKitClientOptions {
  logger: Logger;
}

/** Thin JSON-over-POST layer for `ckdatabasews` with the query parameters Apple's web client sends. */
export class CloudKitClient {
  readonly #transport: ServiceTransport;
  readonly #log: Logger;
  /** Requests sent, for benchmarks and tests. */
  requests = 0;

  constructor(transport: ServiceTransport, options: CloudKitClientOptions) {
    this.#transport = transport;
    this.#log = options.logger;
  }

  /** POSTs `body` to `<container>/<database><path>` and parses a 2xx answer with `schema`. */
  async post<S extends z.ZodType>(
    database: PhotoDatabase,
    path: string,
    body: unknown,
    schema: S,
    signal?: AbortSignal,
  ): Promise<z.infer<S>> {
    if (this.#transport.serviceUrl("ckdatabasews") === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", "The account offers no CloudKit (ckdatabasews) webservice");
    }
    this.requests++;
    const response = await this.#transport.request("ckdatabasews", `${CONTAINER_PATH}/${database}${path}`, {
      method: "POST",
      body,
      query: { remapEnums: "true", getCurrentSyncToken: "true" },
      contentType: "text/plain",
      reauthOn: [401, 421],
      ...(signal === undefined ? {} : { signal }),
    });
    const error = ServerErrorSchema.safeParse(response.json);
    if (error.success) throw serverError(error.data.serverErrorCode, error.data.reason, response.status);
    if (response.status === 401 || response.status === 421) {
      throw new EngineError("SESSION_EXPIRED", `CloudKit still answers ${response.status} after re-authentication`);
    }
    if (response.status === 403)
      throw new EngineError("WEB_ACCESS_DISABLED", WEB_ACCESS_FIX, { info: { status: 403 } });
    if (response.status < 200 || response.status >= 300) {
      throw new EngineError("UNEXPECTED_RESPONSE", `CloudKit ${path} answered HTTP ${response.status}`, {
        info: { status: response.status },
      });
    }
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      this.#log.debug("unexpected CloudKit answer", { path, issues: parsed.error.issues.slice(0, 3) });
      throw new EngineError("UNEXPECTED_RESPONSE", `CloudKit ${path} answered an unexpected body`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }
}
