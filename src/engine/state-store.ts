import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { EngineError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";

/**
 * What the engine remembers per account across restarts: one section per service (sync cursors and
 * the last values it published, so a restart neither repeats events nor forgets state). The store
 * reads and writes the file; each service parses its own section with its own schema.
 */
const StateFileSchema = z.looseObject({ version: z.literal(1) });

/** The sections of an account's state file, keyed by service (`findmy`, `photos`, …), not yet parsed. */
export type StoredSections = Record<string, unknown>;

export class EngineStateStore {
  readonly #dir: string;
  readonly #log: Logger;
  /** The last save of each account; the next one waits for it, so saves land in call order. */
  readonly #saving = new Map<string, Promise<void>>();

  constructor(stateDir: string, log: Logger) {
    this.#dir = join(stateDir, "engine");
    this.#log = log;
  }

  #path(account: string, suffix = ".json"): string {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(account))
      throw new EngineError("INVALID_INPUT", `invalid account id ${account}`);
    return join(this.#dir, `${account}${suffix}`);
  }

  /** The sections of the account's state file; empty when there is none or it is unreadable (logged). */
  async load(account: string): Promise<StoredSections> {
    const text = await readFileIfExists(this.#path(account));
    if (text === undefined) return {};
    try {
      const { version: _version, ...sections } = StateFileSchema.parse(JSON.parse(text));
      return sections;
    } catch (error) {
      this.#log.warn("engine state file is unreadable; starting from an empty state", {
        account,
        error: error instanceof Error ? error.message : String(error),
      });
      return {};
    }
  }

  /**
   * Saves an account's state atomically. Saves of one account are chained and each writes the state
   * as it is when its turn comes, so an older snapshot never overwrites a newer one.
   */
  async save(account: string, sections: StoredSections): Promise<void> {
    const path = this.#path(account);
    const write = async (): Promise<void> => {
      try {
        await writeFileAtomic(path, `${JSON.stringify({ version: 1, ...sections })}\n`);
      } catch (error) {
        throw new EngineError("STORE_FAILED", `could not save engine state for ${account}`, { cause: error });
      }
    };
    const next = (this.#saving.get(account) ?? Promise.resolve()).then(write);
    this.#saving.set(
      account,
      next.catch(() => undefined),
    );
    return next;
  }

  /** A small file kept beside the account's state (`<account>.<name>`), or null when there is none. */
  async loadFile(account: string, name: string): Promise<Buffer | null> {
    try {
      return await readFile(this.#path(account, `.${fileName(name)}`));
    } catch {
      return null;
    }
  }

  /** Writes a file beside the account's state; a failure is logged, not thrown (it is a cache). */
  async saveFile(account: string, name: string, data: Buffer): Promise<void> {
    try {
      await writeFileAtomic(this.#path(account, `.${fileName(name)}`), data);
    } catch (error) {
      this.#log.warn("could not keep a state file", {
        name,
        account,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

function fileName(name: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name) || name.includes(".."))
    throw new EngineError("INVALID_INPUT", `invalid state file name ${name}`);
  return name;
}
