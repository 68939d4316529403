import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { EngineError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-file.ts";

/**
 * What the engine remembers per account across restarts: sync cursors and the last values it
 * published, so a restart neither repeats events nor forgets state. Service-specific parts are
 * kept opaque here and parsed by their owners.
 */
export const EngineStateSchema = z.object({
  version: z.literal(1),
  photos: z
    .object({
      sync: z.unknown().nullable(),
      latest: z.unknown().nullable(),
      count: z.number().nullable(),
      /** Newest `date_uploaded` announced; older items that change are not "new". */
      watermark: z.string().nullable().default(null),
      /** Recently announced asset ids, so a crash between announcing and saving never repeats one. */
      announced: z.array(z.string()).default([]),
      /**
       * Announced assets whose download failed: retried on every later poll until it succeeds
       * (looked up again by record name in their zone). Bounded by the photos job.
       */
      pending_downloads: z
        .array(
          z.object({
            id: z.string().min(1),
            master_id: z.string().min(1),
            database: z.enum(["private", "shared"]),
            zone: z.string().min(1),
            owner: z.string().min(1).optional(),
          }),
        )
        .default([]),
    })
    .default({ sync: null, latest: null, count: null, watermark: null, announced: [], pending_downloads: [] }),
  calls: z
    .object({ cursor: z.string().nullable(), last: z.unknown().nullable() })
    .default({ cursor: null, last: null }),
  devices: z.record(z.string(), z.unknown()).default({}),
});
export type EngineState = z.infer<typeof EngineStateSchema>;

export function emptyEngineState(): EngineState {
  return {
    version: 1,
    photos: { sync: null, latest: null, count: null, watermark: null, announced: [], pending_downloads: [] },
    calls: { cursor: null, last: null },
    devices: {},
  };
}

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

  async load(account: string): Promise<EngineState> {
    const text = await readFileIfExists(this.#path(account));
    if (text === undefined) return emptyEngineState();
    try {
      return EngineStateSchema.parse(JSON.parse(text));
    } catch (error) {
      this.#log.warn("engine state file is unreadable; starting from an empty state", {
        account,
        error: error instanceof Error ? error.message : String(error),
      });
      return emptyEngineState();
    }
  }

  /**
   * Saves an account's state atomically. Saves of one account are chained and each writes the state
   * as it is when its turn comes, so an older snapshot never overwrites a newer one.
   */
  async save(account: string, state: EngineState): Promise<void> {
    const path = this.#path(account);
    const write = async (): Promise<void> => {
      try {
        await writeFileAtomic(path, `${JSON.stringify(state)}\n`);
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

  /** The newest photo's thumbnail (JPEG), kept so the image entity has a picture after a restart. */
  async loadThumbnail(account: string): Promise<Buffer | null> {
    try {
      return await readFile(this.#path(account, ".latest-thumbnail.jpg"));
    } catch {
      return null;
    }
  }

  async saveThumbnail(account: string, jpeg: Buffer): Promise<void> {
    try {
      await writeFileAtomic(this.#path(account, ".latest-thumbnail.jpg"), jpeg);
    } catch (error) {
      this.#log.warn("could not keep the latest photo thumbnail", {
        account,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
