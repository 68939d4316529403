import type { Logger } from "icloud2mqtt/engine";

/** Node-RED's log (`RED.log`): what the engine's lines go to. */
export interface RedLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Keys whose values never reach a log line, at any depth (the same names the bridge's pino
 * redaction removes: callers pass secrets only under these keys).
 */
const SECRET_KEYS = new Set(
  [
    "password",
    "mfaCode",
    "securityCode",
    "token",
    "sessionToken",
    "trustToken",
    "session_token",
    "trust_token",
    "cookie",
    "cookies",
    "authorization",
    "scnt",
    "accessToken",
  ].map((key) => key.toLowerCase()),
);

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return value.message;
  if (depth > 4) return "[…]";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEYS.has(key.toLowerCase()) ? "[redacted]" : redact(item, depth + 1),
    ]),
  );
}

function line(prefix: string, message: string, bindings: Record<string, unknown>, ctx?: Record<string, unknown>) {
  const context = { ...bindings, ...ctx };
  const extra = Object.keys(context).length === 0 ? "" : ` ${JSON.stringify(redact(context, 0))}`;
  return `[${prefix}] ${message}${extra}`;
}

/**
 * The engine's `Logger` on Node-RED's log, with secrets redacted. Engine debug lines go to Node-RED's
 * debug level (shown with `logging.console.level: "debug"` in settings.js).
 */
export function redLogger(log: RedLog, prefix: string, bindings: Record<string, unknown> = {}): Logger {
  return {
    debug: (message, ctx) => log.debug(line(prefix, message, bindings, ctx)),
    info: (message, ctx) => log.info(line(prefix, message, bindings, ctx)),
    warn: (message, ctx) => log.warn(line(prefix, message, bindings, ctx)),
    error: (message, ctx) => log.error(line(prefix, message, bindings, ctx)),
    child: (more) => redLogger(log, prefix, { ...bindings, ...more }),
  };
}
