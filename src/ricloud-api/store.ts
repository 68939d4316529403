import { rename } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../logger.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";
import { ricloudDir } from "./key-store.ts";
import { type ApiState, ApiStateSchema, type KeySettings } from "./records.ts";
import { isoNow } from "./time.ts";

/** Kept at most (oldest dropped first, never one still running or undelivered). */
const KEEP = { polls: 1000, sessions: 1000, events: 1000, results: 20_000, files: 50_000 } as const;
/** Changes within this window are written together (a crash loses at most this much). */
const SAVE_DELAY_MS = 200;

/**
 * The API's resources, persisted in `<state_dir>/ricloud/api.json` (atomic 0600 writes, parsed with
 * zod on load). Changes are written shortly after they happen (coalesced) and on `flush()`. A file
 * that does not parse is set aside as `api.json.invalid-<time>` and the API starts empty (logged).
 */
export class ApiStore {
  readonly #file: string;
  readonly #log: Logger;
  #state: ApiState;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(file: string, state: ApiState, log: Logger) {
    this.#file = file;
    this.#state = state;
    this.#log = log;
  }

  static async open(stateDir: string, log: Logger): Promise<ApiStore> {
    const file = join(ricloudDir(stateDir), "api.json");
    const text = await readFileIfExists(file);
    let state: ApiState | undefined;
    if (text !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        raw = undefined;
      }
      const parsed = ApiStateSchema.safeParse(raw);
      if (parsed.success) state = parsed.data;
      else {
        const aside = `${file}.invalid-${Date.now()}`;
        await rename(file, aside).catch(() => undefined);
        log.warn("the ricloud API state file is invalid; starting empty", { file: aside });
      }
    }
    state ??= ApiStateSchema.parse({
      version: 1,
      organisation: {
        name: "icloud2mqtt",
        storage_config_default: null,
        webhook_config_default: null,
        date_created: isoNow(),
      },
    });
    return new ApiStore(file, state, log);
  }

  get state(): ApiState {
    return this.#state;
  }

  /** The next number of a counter (`user`, `source`, `storage_config`, …) as a string id. */
  nextId(counter: string): string {
    const next = (this.#state.counters[counter] ?? 0) + 1;
    this.#state.counters[counter] = next;
    return String(next);
  }

  keySettings(key: string): KeySettings {
    this.#state.keys[key] ??= { storage_config: null, webhook_config: null };
    return this.#state.keys[key];
  }

  /** Schedules a write of the current state (coalesced within SAVE_DELAY_MS). */
  changed(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#save();
    }, SAVE_DELAY_MS);
    this.#timer.unref?.();
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#save();
    }
    await this.#writing;
  }

  /** Writes pending changes; later changes stay in memory only. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #save(): Promise<void> {
    this.#prune();
    const write = async () => {
      try {
        await writeFileAtomic(this.#file, `${JSON.stringify(this.#state)}\n`);
      } catch (error) {
        this.#log.error("could not save the ricloud API state", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    };
    this.#writing = this.#writing.then(write);
    return this.#writing;
  }

  /**
   * Drops the oldest finished polls (with their tasks), sessions, settled events, consumed or expired
   * results, and file references.
   */
  #prune(): void {
    const s = this.#state;
    if (s.polls.length > KEEP.polls) {
      const drop = new Set(
        s.polls
          .filter((poll) => poll.state === "completed")
          .slice(0, s.polls.length - KEEP.polls)
          .map((poll) => poll.id),
      );
      s.polls = s.polls.filter((poll) => !drop.has(poll.id));
      s.tasks = s.tasks.filter((task) => task.poll === null || !drop.has(task.poll));
    }
    if (s.sessions.length > KEEP.sessions) {
      const extra = s.sessions.length - KEEP.sessions;
      const drop = new Set(
        s.sessions
          .filter((session) => session.state !== "active" && session.state !== "pending")
          .slice(0, extra)
          .map((session) => session.id),
      );
      s.sessions = s.sessions.filter((session) => !drop.has(session.id));
    }
    if (s.events.length > KEEP.events) {
      const extra = s.events.length - KEEP.events;
      const drop = new Set(
        s.events
          .filter((event) => event._next_attempt === null)
          .slice(0, extra)
          .map((event) => event.id),
      );
      s.events = s.events.filter((event) => !drop.has(event.id));
    }
    if (s.results.length > KEEP.results) {
      const extra = s.results.length - KEEP.results;
      const drop = new Set(
        s.results
          .filter((result) => result.state !== "available")
          .slice(0, extra)
          .map((result) => result.id),
      );
      s.results = s.results.filter((result) => !drop.has(result.id));
    }
    const files = Object.keys(s.files);
    if (files.length > KEEP.files) {
      for (const key of files.slice(0, files.length - KEEP.files)) delete s.files[key];
    }
  }
}
