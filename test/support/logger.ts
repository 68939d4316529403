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
