import type { Logger } from "../../src/logger.ts";

/** A logger that keeps every line with its context as text, to check what the code logs (and never logs). */
export class CaptureLogger implements Logger {
  readonly lines: string[];

  constructor(lines: string[] = []) {
    this.lines = lines;
  }

  #push(level: string, msg: string, ctx?: Record<string, unknown>): void {
    this.lines.push(`${level} ${msg} ${ctx === undefined ? "" : JSON.stringify(ctx)}`);
  }
  debug(msg: string, ctx?: Record<string, unknown>): void {
    this.#push("debug", msg, ctx);
  }
  info(msg: string, ctx?: Record<string, unknown>): void {
    this.#push("info", msg, ctx);
  }
  warn(msg: string, ctx?: Record<string, unknown>): void {
    this.#push("warn", msg, ctx);
  }
  error(msg: string, ctx?: Record<string, unknown>): void {
    this.#push("error", msg, ctx);
  }
  child(bindings: Record<string, unknown>): Logger {
    const merged = (ctx?: Record<string, unknown>) => ({ ...bindings, ...ctx });
    return {
      debug: (msg, ctx) => this.debug(msg, merged(ctx)),
      info: (msg, ctx) => this.info(msg, merged(ctx)),
      warn: (msg, ctx) => this.warn(msg, merged(ctx)),
      error: (msg, ctx) => this.error(msg, merged(ctx)),
      child: (more) => this.child({ ...bindings, ...more }),
    };
  }

  /** Everything logged, as one text. */
  get text(): string {
    return this.lines.join("\n");
  }
}
