import type { EngineApi } from "../engine/api.ts";
import type { Logger } from "../logger.ts";
import { scrub } from "./redact.ts";
import {
  type ErrorResponse,
  errorResponse,
  MAX_REQUEST_BYTES,
  type OkResponse,
  okResponse,
  oversizedRequestResponse,
  parseRequest,
  requestSecrets,
} from "./requests.ts";

/**
 * Answers one `<base>/bridge/request/<command>`: parse, run through `api.execute` when valid,
 * and return the response for `<base>/bridge/response/<command>`. A payload over MAX_REQUEST_BYTES
 * is refused undecoded. Never logs the payload; error messages are scrubbed of the request's code/passcode.
 */
export async function handleRequest(
  api: EngineApi,
  command: string,
  payload: Buffer,
  log: Logger,
): Promise<OkResponse | ErrorResponse> {
  if (payload.length > MAX_REQUEST_BYTES) {
    log.warn("rejected an oversized MQTT request", { command, bytes: payload.length });
    return oversizedRequestResponse(command, payload.length);
  }
  const request = parseRequest(command, payload);
  if (!request.ok) {
    log.warn("rejected MQTT request", { command, error: request.error.message });
    return errorResponse(request.error, request.transaction);
  }
  log.info("MQTT request", { command, account: request.input.account });
  try {
    return okResponse(await api.execute(request.command, request.input), request.transaction);
  } catch (error) {
    const response = errorResponse(error, request.transaction);
    response.error = scrub(response.error, requestSecrets(request.input));
    log.warn("MQTT request failed", { command, code: response.data.code });
    return response;
  }
}
