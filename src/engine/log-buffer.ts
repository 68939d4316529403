import type { LogEntry } from "./events.ts";

const LEVELS: Record<LogEntry["level"], number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The log lines of each account since its last trigger (sync or re-authentication), as
 * icloud-photos-sync's `/api/log` serves them. Bounded so a long run cannot grow without limit.
 */
export class LogBuffer {
  readonly #entries = new Map<string | null, LogEntry[]>();
  readonly #limit: number;

  constructor(limit = 2000) {
    this.#limit = limit;
  }

  add(entry: LogEntry): void {
    const list = this.#entries.get(entry.account) ?? [];
    list.push(entry);
    if (list.length > this.#limit) list.splice(0, list.length - this.#limit);
    this.#entries.set(entry.account, list);
  }

  /** Forgets an account's lines: called when a new sync or auth run starts. */
  clear(account: string): void {
    this.#entries.delete(account);
  }

  /** Lines at `minLevel` or more severe; the bridge's own lines (account null) are always included. */
  list(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[] {
    const min = LEVELS[minLevel];
    const own =
      account === undefined
        ? [...this.#entries.values()].flat()
        : [...(this.#entries.get(account) ?? []), ...(this.#entries.get(null) ?? [])];
    return own.filter((entry) => LEVELS[entry.level] >= min).sort((a, b) => a.time - b.time);
  }
}

export function levelAtLeast(level: LogEntry["level"], min: LogEntry["level"]): boolean {
  return LEVELS[level] >= LEVELS[min];
}
