import { pino } from "pino";
import { terminalDestination } from "./log-terminal.ts";
import type { Logger, LogLevel } from "./logger.ts";

/** Paths pino removes from every log line, whatever module logs them. */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "mfaCode",
  "*.mfaCode",
  "securityCode",
  "*.securityCode",
  "token",
  "*.token",
  "sessionToken",
  "*.sessionToken",
  "trustToken",
  "*.trustToken",
  "session_token",
  "*.session_token",
  "trust_token",
  "*.trust_token",
  "session_id",
  "*.session_id",
  "auth_attributes",
  "*.auth_attributes",
  "passcode",
  "*.passcode",
  "cookie",
  "*.cookie",
  "cookies",
  "*.cookies",
  "headers.cookie",
  "headers.authorization",
  "*.headers.cookie",
  "*.headers.authorization",
  "scnt",
  "*.scnt",
  "accessToken",
  "*.accessToken",
];

export interface PinoLoggerOptions {
  level?: LogLevel;
  pretty?: boolean;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
  name?: string;
}

class PinoAdapter implements Logger {
  readonly #pino: pino.Logger;
  constructor(instance: pino.Logger) {
    this.#pino = instance;
  }
  debug(msg: string, ctx?: Record<string, unknown>): void {
    this.#pino.debug(ctx ?? {}, msg);
  }
  info(msg: string, ctx?: Record<string, unknown>): void {
    this.#pino.info(ctx ?? {}, msg);
  }
  warn(msg: string, ctx?: Record<string, unknown>): void {
    this.#pino.warn(ctx ?? {}, msg);
  }
  error(msg: string, ctx?: Record<string, unknown>): void {
    this.#pino.error(ctx ?? {}, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new PinoAdapter(this.#pino.child(bindings));
  }
}

/**
 * A pino-backed logger: readable lines on a terminal (formatted in this process, see
 * `log-terminal.ts`), JSON otherwise, secrets redacted.
 */
export function createLogger(options: PinoLoggerOptions = {}): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY === true && options.destination === undefined);
  const base: pino.LoggerOptions = {
    level: options.level ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  if (pretty) {
    return new PinoAdapter(pino(base, terminalDestination(options.destination ?? process.stdout)));
  }
  const destination = options.destination ?? pino.destination(1);
  return new PinoAdapter(pino(base, destination as pino.DestinationStream));
}
