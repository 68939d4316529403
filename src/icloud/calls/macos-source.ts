import { statSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import { z } from "zod";
import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  CALL_RECORD_COLUMNS,
  type CallRecordRow,
  CallRecordRowSchema,
  callFromRow,
  toCoreDataSeconds,
} from "./macos-rows.ts";
import {
  type CallkitCall,
  type CallListOptions,
  type CallsSource,
  DEFAULT_CALL_LIMIT,
  INITIAL_HISTORY_LIMIT,
  type NewCallsResult,
} from "./types.ts";

/**
 * Call history from a macOS `CallHistory.storedata` (`~/Library/Application Support/CallHistoryDB/`,
 * readable only with Full Disk Access), which macOS keeps in sync with the iPhone through iCloud.
 *
 * The file is opened read-only for each read and closed again, so a replaced file is picked up and
 * nothing stays locked. Cursor: the highest `Z_PK` seen (Core Data never reuses primary keys, so
 * `Z_PK > cursor` is exactly the rows added since, including calls synced late from other devices),
 * the newest `ZDATE` seen and the store's `Z_METADATA.Z_UUID`. When the store was recreated (other
 * UUID, or fewer keys than the cursor), only calls newer than the cursor's date are returned.
 */

const CursorSchema = z.object({
  k: z.literal("macos"),
  pk: z.number().int().nonnegative(),
  /** Newest ZDATE seen, Core Data seconds. */
  date: z.number(),
  store: z.string().nullable(),
});
type MacCursor = z.infer<typeof CursorSchema>;

/** Rows of one SELECT: the readable ones, how many were read, and the last row's primary key. */
interface Selected {
  rows: CallRecordRow[];
  read: number;
  lastPk: number | undefined;
}

const PkSchema = CallRecordRowSchema.pick({ Z_PK: true });
const SqliteErrorSchema = z.object({ code: z.literal("ERR_SQLITE_ERROR"), errcode: z.number() });
const ColumnInfoSchema = z.object({ name: z.string() });
const ScalarSchema = z.object({ v: z.union([z.number(), z.bigint().transform(Number), z.string(), z.null()]) });

// SQLite primary result codes (https://sqlite.org/rescode.html).
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export interface MacCallsOptions {
  log?: Logger;
  /** At most this many new calls per `newCalls`; the rest follow on the next call. Default 500. */
  batchSize?: number;
  /** How long to wait for a lock held by macOS before giving up, ms. Default 2000. */
  busyTimeoutMs?: number;
}

export class MacCallsSource implements CallsSource {
  readonly kind = "macos";
  readonly #path: string;
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #busyTimeoutMs: number;

  constructor(path: string, options: MacCallsOptions = {}) {
    this.#path = path;
    this.#log = (options.log ?? silentLogger).child({ source: "calls.macos" });
    this.#batchSize = options.batchSize ?? 500;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 2000;
  }

  async calls(options: CallListOptions = {}): Promise<CallkitCall[]> {
    const limit = options.limit ?? DEFAULT_CALL_LIMIT;
    return this.#read((select) => {
      const { rows } =
        options.since === undefined
          ? select("ORDER BY ZDATE DESC, Z_PK DESC LIMIT ?", limit)
          : select("WHERE ZDATE > ? ORDER BY ZDATE DESC, Z_PK DESC LIMIT ?", toCoreDataSeconds(options.since), limit);
      return rows.map(callFromRow);
    });
  }

  async newCalls(cursor: string | undefined): Promise<NewCallsResult> {
    const previous = cursor === undefined ? undefined : decodeCursor(cursor, CursorSchema);
    return this.#read((select, db) => {
      const store = storeUuid(db);
      const maxPk = Number(scalar(db, "SELECT MAX(Z_PK) AS v FROM ZCALLRECORD") ?? 0);
      if (previous === undefined) {
        const maxDate = Number(scalar(db, "SELECT MAX(ZDATE) AS v FROM ZCALLRECORD") ?? 0);
        const rows = select("ORDER BY ZDATE DESC, Z_PK DESC LIMIT ?", INITIAL_HISTORY_LIMIT).rows.reverse();
        return { calls: rows.map(callFromRow), cursor: encodeCursor({ k: "macos", pk: maxPk, date: maxDate, store }) };
      }
      const sameStore = maxPk >= previous.pk && (previous.store === null || store === null || previous.store === store);
      if (!sameStore)
        this.#log.warn("CallHistory database was replaced; returning only calls newer than the last seen");
      const { rows, read, lastPk } = sameStore
        ? select("WHERE Z_PK > ? ORDER BY Z_PK LIMIT ?", previous.pk, this.#batchSize)
        : select("WHERE ZDATE > ? ORDER BY Z_PK LIMIT ?", previous.date, this.#batchSize);
      const next: MacCursor = {
        k: "macos",
        // A full batch may have more behind it: continue after the last row read (even an unreadable one).
        pk: read === this.#batchSize && lastPk !== undefined ? lastPk : maxPk,
        date: Math.max(previous.date, ...rows.map((row) => row.ZDATE)),
        store,
      };
      const calls = rows.map(callFromRow).sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
      this.#log.debug("read new calls", { count: calls.length });
      return { calls, cursor: encodeCursor(next) };
    });
  }

  /** Opens the database read-only inside one read transaction (a consistent snapshot), runs `work`, closes. */
  #read<T>(work: (select: (tail: string, ...params: number[]) => Selected, db: DatabaseSync) => T): T {
    this.#checkFile();
    let db: DatabaseSync | undefined;
    try {
      // node:sqlite is loaded only when a macOS database is read (not by bridges reading iCloud).
      const { DatabaseSync: Database } = process.getBuiltinModule("node:sqlite");
      db = new Database(this.#path, { readOnly: true, timeout: this.#busyTimeoutMs });
      const opened = db;
      opened.exec("BEGIN");
      const columns = new Set(
        opened
          .prepare("PRAGMA table_info(ZCALLRECORD)")
          .all()
          .map((row) => ColumnInfoSchema.parse(row).name),
      );
      if (!columns.has("Z_PK") || !columns.has("ZDATE")) {
        throw new EngineError("CONFIG_INVALID", `${this.#path} is not a CallHistory database (no ZCALLRECORD table)`);
      }
      const projection = ["Z_PK", ...CALL_RECORD_COLUMNS.map((name) => projectColumn(name, columns.has(name)))].join(
        ", ",
      );
      const select = (tail: string, ...params: number[]): Selected =>
        this.#parseRows(opened.prepare(`SELECT ${projection} FROM ZCALLRECORD ${tail}`).all(...params));
      const result = work(select, opened);
      opened.exec("COMMIT");
      return result;
    } catch (error) {
      throw this.#mapError(error);
    } finally {
      db?.close();
    }
  }

  #parseRows(raw: readonly unknown[]): Selected {
    const rows: CallRecordRow[] = [];
    for (const row of raw) {
      const result = CallRecordRowSchema.safeParse(row);
      if (result.success) rows.push(result.data);
      else
        this.#log.warn("skipping unreadable ZCALLRECORD row", {
          issues: result.error.issues.map((i) => i.path.join(".")),
        });
    }
    const lastPk = PkSchema.safeParse(raw.at(-1));
    return { rows, read: raw.length, lastPk: lastPk.success ? lastPk.data.Z_PK : undefined };
  }

  #checkFile(): void {
    try {
      if (!statSync(this.#path).isFile()) {
        throw new EngineError(
          "CONFIG_INVALID",
          `${this.#path} is not a file; expected a CallHistory.storedata database`,
        );
      }
    } catch (error) {
      if (error instanceof EngineError) throw error;
      const code = error instanceof Error && "code" in error ? error.code : undefined;
      const message =
        code === "ENOENT"
          ? `No CallHistory database at ${this.#path}`
          : `Cannot read ${this.#path} (${String(code)}); on macOS give the bridge Full Disk Access`;
      throw new EngineError("CONFIG_INVALID", message, { cause: error });
    }
  }

  #mapError(error: unknown): EngineError {
    if (error instanceof EngineError) return error;
    const sqlite = SqliteErrorSchema.safeParse(error);
    const detail = error instanceof Error ? error.message : String(error);
    if (sqlite.success && (sqlite.data.errcode === SQLITE_BUSY || sqlite.data.errcode === SQLITE_LOCKED)) {
      return new EngineError(
        "SERVICE_UNAVAILABLE",
        `CallHistory database ${this.#path} is busy (${detail}); will retry`,
        {
          cause: error,
        },
      );
    }
    if (sqlite.success) {
      return new EngineError("CONFIG_INVALID", `Cannot read CallHistory database ${this.#path}: ${detail}`, {
        cause: error,
      });
    }
    return new EngineError("UNEXPECTED_RESPONSE", `Reading ${this.#path} failed: ${detail}`, { cause: error });
  }
}

/** Column names come from a fixed list, never from input. Text columns are cast: some OS versions store BLOBs. */
function projectColumn(name: (typeof CALL_RECORD_COLUMNS)[number], present: boolean): string {
  if (!present) return `NULL AS ${name}`;
  const isText = name === "ZADDRESS" || name === "ZNAME" || name === "ZUNIQUE_ID";
  return isText ? `CAST(${name} AS TEXT) AS ${name}` : name;
}

function scalar(db: DatabaseSync, sql: string): number | string | null {
  const row = db.prepare(sql).get();
  return row === undefined ? null : ScalarSchema.parse(row).v;
}

/** Core Data's store UUID; it changes when the store is recreated. Undefined in stores without Z_METADATA. */
function storeUuid(db: DatabaseSync): string | null {
  try {
    const value = scalar(db, "SELECT Z_UUID AS v FROM Z_METADATA LIMIT 1");
    return typeof value === "string" ? value : null;
  } catch {
    return null;
  }
}
