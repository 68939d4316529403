import type { Logger } from "icloud2mqtt/engine";

/** The part of Homebridge's `Logging` the plugin uses (the same in Homebridge 1.x and 2.x). */
export interface HomebridgeLog {
  debug(message: string, ...parameters: unknown[]): void;
  info(message: string, ...parameters: unknown[]): void;
  warn(message: string, ...parameters: unknown[]): void;
  error(message: string, ...parameters: unknown[]): void;
}

/**
 * The engine's `Logger` on Homebridge's log: `[account] message (key=value, ...)`. The engine never
 * passes secrets in its context (its logger contract), so the context is shown as it is.
 */
export function homebridgeLogger(log: HomebridgeLog, bindings: Record<string, unknown> = {}): Logger {
  const line = (message: string, context?: Record<string, unknown>): string => {
    const account = typeof bindings["account"] === "string" ? `[${bindings["account"]}] ` : "";
    const details = Object.entries(context ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
    return `${account}${message}${details.length > 0 ? ` (${details.join(", ")})` : ""}`;
  };
  return {
    debug: (message, context) => log.debug(line(message, context)),
    info: (message, context) => log.info(line(message, context)),
    warn: (message, context) => log.warn(line(message, context)),
    error: (message, context) => log.error(line(message, context)),
    child: (more) => homebridgeLogger(log, { ...bindings, ...more }),
  };
}
