import type { Logger } from "../logger.ts";
import type { LogEntry } from "./events.ts";

/**
 * A logger that writes to `base` and also hands each line (message only, never the context,
 * which may hold request details) to `sink`, tagged with the account and module.
 */
export function teeLogger(
  base: Logger,
  account: string | null,
  sink: (entry: LogEntry) => void,
  source = "engine",
): Logger {
  const emit = (level: LogEntry["level"], message: string, ctx?: Record<string, unknown>) => {
    const module = typeof ctx?.["module"] === "string" ? ctx["module"] : source;
    sink({ account, level, time: Date.now(), source: module, message });
  };
  return {
    debug(msg, ctx) {
      base.debug(msg, ctx);
      emit("debug", msg, ctx);
    },
    info(msg, ctx) {
      base.info(msg, ctx);
      emit("info", msg, ctx);
    },
    warn(msg, ctx) {
      base.warn(msg, ctx);
      emit("warn", msg, ctx);
    },
    error(msg, ctx) {
      base.error(msg, ctx);
      emit("error", msg, ctx);
    },
    child(bindings) {
      const module =
        typeof bindings["module"] === "string"
          ? bindings["module"]
          : typeof bindings["service"] === "string"
            ? bindings["service"]
            : source;
      return teeLogger(base.child(bindings), account, sink, module);
    },
  };
}
