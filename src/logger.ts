export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * The logging seam. The engine and the iCloud client only see this interface; the daemon
 * backs it with pino (pino-logger.ts), Node-RED and Homebridge with their own loggers.
 * Implementations must not log secrets: callers pass them only under redacted keys.
 */
export interface Logger {
  debug(msg: string, ctx?: Record<string, unknown>): void;
  info(msg: string, ctx?: Record<string, unknown>): void;
  warn(msg: string, ctx?: Record<string, unknown>): void;
  error(msg: string, ctx?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
