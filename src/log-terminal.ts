import { styleText } from "node:util";

const LEVELS: Record<number, { name: string; color: Parameters<typeof styleText>[0] }> = {
  10: { name: "TRACE", color: "gray" },
  20: { name: "DEBUG", color: "blue" },
  30: { name: "INFO", color: "green" },
  40: { name: "WARN", color: "yellow" },
  50: { name: "ERROR", color: "red" },
  60: { name: "FATAL", color: "magenta" },
};

/** Fields every line has; they are not repeated after the message. */
const OMITTED = new Set(["level", "time", "msg", "pid", "hostname"]);

function value(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as a short line for people: `12:34:56 INFO  message key=value …` (local time,
 * coloured when `color`). A line that is not pino's JSON is returned unchanged.
 */
export function formatLogLine(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = (style: Parameters<typeof styleText>[0], text: string): string =>
    color ? styleText(style, text, { validateStream: false }) : text;
  const level = LEVELS[Number(record["level"])] ?? { name: String(record["level"] ?? "?"), color: "white" };
  const time = typeof record["time"] === "number" ? new Date(record["time"]) : new Date();
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()].map((n) => String(n).padStart(2, "0"));
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, v]) => `${key}=${value(v)}`);
  const message = typeof record["msg"] === "string" ? record["msg"] : "";
  const extra = fields.length === 0 ? "" : ` ${paint("gray", fields.join(" "))}`;
  return `${paint("gray", clock.join(":"))} ${paint(level.color, level.name.padEnd(5))} ${message}${extra}\n`;
}

/**
 * A pino destination that writes readable lines to a terminal, in this process: no worker thread and
 * no pretty-printing package (the bridge stays small when started in a terminal).
 */
export function terminalDestination(out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): {
  write(chunk: string): boolean;
} {
  const color = out.isTTY === true && process.env["NO_COLOR"] === undefined;
  return {
    write: (chunk) => {
      let text = "";
      for (const line of chunk.split("\n")) if (line !== "") text += formatLogLine(line, color);
      return out.write(text);
    },
  };
}
