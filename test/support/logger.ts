import type { Logger, LogLevel } from "../../src/logger.ts";

export interface LogLine {
  level: LogLevel;
  msg: string;
  ctx: Record<string, unknown>;
}

/** A logger that keeps every line (children included), for tests that count or read log lines. */
export function recordingLogger(): Logger & { lines: LogLine[]; at(level: LogLevel): LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const add =
      (level: LogLevel) =>
      (msg: string, ctx: Record<string, unknown> = {}) =>
        void lines.push({ level, msg, ctx: { ...bindings, ...ctx } });
    return {
      debug: add("debug"),
      info: add("info"),
      warn: add("warn"),
      error: add("error"),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { lines, at: (level: LogLevel) => lines.filter((l) => l.level === level) });
}

/**
 * A logger that keeps its lines as `[level, msg, ctx]` and, apart, the bindings each child was made with
 * (its children log into the same lines), for tests that check what a module binds.
 */
export function bindingRecorder() {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const bindings: Array<Record<string, unknown>> = [];
  const log: Logger = {
    debug: (m, c) => void lines.push(["debug", m, c]),
    info: (m, c) => void lines.push(["info", m, c]),
    warn: (m, c) => void lines.push(["warn", m, c]),
    error: (m, c) => void lines.push(["error", m, c]),
    child: (b) => {
      bindings.push(b);
      return log;
    },
  };
  return { log, lines, bindings };
}
