import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { EngineError } from "../../errors.ts";

/**
 * Which assets and files the downloader has fetched, kept across restarts.
 *
 * Format: an append-only JSON-lines journal (`downloads.jsonl`), one small line per finished file and
 * one per finished asset, compacted on open (written to a temporary file, then renamed: atomic).
 * Why not one JSON document rewritten atomically: that costs O(library) bytes per downloaded file,
 * i.e. gigabytes of writes for a 100 000-asset first sync. Why not `node:sqlite`: still experimental
 * in Node 22–24 (warning on stderr) and a native store for a set of strings. A crash can at worst tear
 * the last line, which is skipped on load; the downloader writes a file's line before renaming its
 * `.part` to the final name, so the file it described is still a complete `.part` that the next run
 * resumes (no bytes fetched again) and records. A file under its final name that the index does not
 * point to is never taken for one of ours.
 */

const LineSchema = z.union([
  z.object({ a: z.string(), f: z.string(), p: z.string(), s: z.number() }),
  z.object({ a: z.string(), done: z.literal(true) }),
  // The asset's files were moved away (archived): it is no longer one of the library's downloads.
  z.object({ a: z.string(), gone: z.literal(true) }),
]);

export interface IndexedFile {
  /** Path relative to the library folder. */
  path: string;
  size: number;
}

/**
 * In memory, the assets are spread over {@link BUCKETS} strings by a hash of their id; a bucket holds,
 * per asset, `\x1e<asset id>\x1f` and its entry: `1` when the asset is complete, else `0`, then per
 * file `\n<file id>\t<path>\t<size>` (an `icpl://` id without that prefix). A library of 100 000
 * assets takes about 10 MB, against 17.5 MB for one map entry and one string per asset (the key, the
 * entry and the map's own slots cost more than the characters) and 50 MB for objects per file; a
 * look-up scans one bucket (about a kilobyte at 100 000 assets). Asset ids, file ids and paths never
 * hold a separator (paths are made by `safe-path.ts`; lines on disk that do are skipped like torn ones).
 */
type AssetEntry = string;

const DONE = "1";
const OPEN = "0";
const BUCKETS = 8192;
const RECORD = "\x1e";
const ID_END = "\x1f";
const ICPL = "icpl://";

/**
 * `text` as one flat string: built by concatenation, it would be a tree of parts (and a slice keeps its
 * whole source alive), several times its size.
 */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

function hasSeparator(text: string): boolean {
  return text.includes("\t") || text.includes("\n") || text.includes(RECORD) || text.includes(ID_END);
}

/** FNV-1a of the id's UTF-16 code units, as a bucket number. */
function bucketOf(assetId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < assetId.length; i++) hash = Math.imul(hash ^ assetId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

function packFileId(fileId: string): string {
  return fileId.startsWith(ICPL) && fileId.length > ICPL.length ? fileId.slice(ICPL.length) : `\t${fileId}`;
}

function* filesIn(entry: AssetEntry): Generator<{ fileId: string; file: IndexedFile }> {
  let at = entry.indexOf("\n");
  while (at !== -1) {
    const next = entry.indexOf("\n", at + 1);
    const line = entry.slice(at + 1, next === -1 ? undefined : next);
    // A file id that does not start with `icpl://` is kept whole after an empty first column.
    const parts = line.split("\t");
    const [fileId = "", path = "", size = "0"] =
      parts[0] === "" ? parts.slice(1) : [`${ICPL}${parts[0]}`, ...parts.slice(1)];
    yield { fileId, file: { path, size: Number(size) } };
    at = next;
  }
}

function withFile(entry: AssetEntry | undefined, fileId: string, file: IndexedFile): AssetEntry {
  const packed = packFileId(fileId);
  const line = `\n${packed}\t${file.path}\t${file.size}`;
  if (entry === undefined) return `${OPEN}${line}`;
  const prefix = `\n${packed}\t`;
  const at = entry.indexOf(prefix);
  if (at === -1) return `${entry}${line}`;
  const end = entry.indexOf("\n", at + 1);
  return `${entry.slice(0, at)}${line}${end === -1 ? "" : entry.slice(end)}`;
}

/** Asset ids and entries of one bucket, in the order they were added. */
function* entriesIn(bucket: string): Generator<[string, AssetEntry]> {
  let at = bucket.indexOf(RECORD);
  while (at !== -1) {
    const next = bucket.indexOf(RECORD, at + 1);
    const idEnd = bucket.indexOf(ID_END, at);
    yield [bucket.slice(at + 1, idEnd), bucket.slice(idEnd + 1, next === -1 ? undefined : next)];
    at = next;
  }
}

/** Asset id → entry, in {@link BUCKETS} flat strings. */
class AssetTable {
  readonly #buckets: string[] = new Array<string>(BUCKETS).fill("");

  /** Where the asset's record starts in its bucket and where its entry ends (-1 when absent). */
  #find(bucket: string, assetId: string): { start: number; entry: number; end: number } | undefined {
    const start = bucket.indexOf(`${RECORD}${assetId}${ID_END}`);
    if (start === -1) return undefined;
    const entry = start + assetId.length + 2;
    const end = bucket.indexOf(RECORD, entry);
    return { start, entry, end: end === -1 ? bucket.length : end };
  }

  get(assetId: string): AssetEntry | undefined {
    const bucket = this.#buckets[bucketOf(assetId)] ?? "";
    const found = this.#find(bucket, assetId);
    return found === undefined ? undefined : bucket.slice(found.entry, found.end);
  }

  has(assetId: string): boolean {
    return this.#find(this.#buckets[bucketOf(assetId)] ?? "", assetId) !== undefined;
  }

  set(assetId: string, entry: AssetEntry): void {
    const b = bucketOf(assetId);
    const bucket = this.#buckets[b] ?? "";
    const found = this.#find(bucket, assetId);
    const record = `${RECORD}${assetId}${ID_END}${entry}`;
    if (found === undefined) {
      this.#buckets[b] = flat(`${bucket}${record}`);
    } else {
      this.#buckets[b] = flat(`${bucket.slice(0, found.start)}${record}${bucket.slice(found.end)}`);
    }
  }

  delete(assetId: string): void {
    const b = bucketOf(assetId);
    const bucket = this.#buckets[b] ?? "";
    const found = this.#find(bucket, assetId);
    if (found === undefined) return;
    this.#buckets[b] = flat(`${bucket.slice(0, found.start)}${bucket.slice(found.end)}`);
  }

  *[Symbol.iterator](): Generator<[string, AssetEntry]> {
    for (const bucket of this.#buckets) if (bucket !== "") yield* entriesIn(bucket);
  }
}

export class DownloadIndex {
  readonly #file: string;
  readonly #assets = new AssetTable();
  /** Complete assets, and files recorded (the lines a compacted journal holds). */
  #done = 0;
  #files = 0;
  #handle: FileHandle | undefined;
  #queue: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.#file = file;
  }

  /** Loads (and compacts) the journal at `file`, creating it when missing. */
  static async open(file: string): Promise<DownloadIndex> {
    const index = new DownloadIndex(file);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    let lines = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      lines++;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash
      }
      const parsed = LineSchema.safeParse(json);
      if (!parsed.success) continue;
      if (hasSeparator(parsed.data.a)) continue;
      if ("done" in parsed.data) index.#markDone(parsed.data.a);
      else if ("gone" in parsed.data) index.#drop(parsed.data.a);
      else if (!hasSeparator(parsed.data.f) && !hasSeparator(parsed.data.p)) {
        index.#setFile(parsed.data.a, parsed.data.f, { path: parsed.data.p, size: parsed.data.s });
      }
    }
    text = "";
    if (lines > index.#files + index.#done) await index.#compact();
    index.#handle = await open(file, "a", 0o600);
    return index;
  }

  async #compact(): Promise<void> {
    const temp = `${this.#file}.${process.pid}.tmp`;
    const handle = await open(temp, "w", 0o600);
    try {
      // Written in slices, so a large library is never one string in memory.
      let out = "";
      for (const [a, entry] of this.#assets) {
        for (const { fileId, file } of filesIn(entry))
          out += `${JSON.stringify({ a, f: fileId, p: file.path, s: file.size })}\n`;
        if (entry.startsWith(DONE)) out += `${JSON.stringify({ a, done: true })}\n`;
        if (out.length > 1 << 20) {
          await handle.write(out);
          out = "";
        }
      }
      await handle.write(out);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.#file).catch(async (error: unknown) => {
      await rm(temp, { force: true });
      throw error;
    });
  }

  #setFile(assetId: string, fileId: string, file: IndexedFile): void {
    const entry = this.#assets.get(assetId);
    if (entry === undefined || !entry.includes(`\n${packFileId(fileId)}\t`)) this.#files++;
    this.#assets.set(assetId, withFile(entry, fileId, file));
  }

  #markDone(assetId: string): void {
    const entry = this.#assets.get(assetId);
    if (entry?.startsWith(DONE) === true) return;
    this.#done++;
    this.#assets.set(assetId, entry === undefined ? DONE : `${DONE}${entry.slice(1)}`);
  }

  #drop(assetId: string): void {
    const entry = this.#assets.get(assetId);
    if (entry === undefined) return;
    if (entry.startsWith(DONE)) this.#done--;
    for (const _ of filesIn(entry)) this.#files--;
    this.#assets.delete(assetId);
  }

  /** True once every wanted file of the asset was fetched. */
  hasAsset(assetId: string): boolean {
    return this.#assets.get(assetId)?.startsWith(DONE) === true;
  }

  file(assetId: string, fileId: string): IndexedFile | undefined {
    const entry = this.#assets.get(assetId);
    if (entry === undefined) return undefined;
    for (const found of filesIn(entry)) if (found.fileId === fileId) return found.file;
    return undefined;
  }

  get assetCount(): number {
    return this.#done;
  }

  /** The files recorded for an asset (complete ones, and one whose rename a crash may have cut short). */
  filesOf(assetId: string): { fileId: string; file: IndexedFile }[] {
    const entry = this.#assets.get(assetId);
    return entry === undefined ? [] : [...filesIn(entry)];
  }

  /** Every asset recorded as complete (a snapshot). */
  assetIds(): string[] {
    return [...this.#assets].flatMap(([assetId, entry]) => (entry.startsWith(DONE) ? [assetId] : []));
  }

  recordFile(assetId: string, fileId: string, file: IndexedFile): Promise<void> {
    if (hasSeparator(assetId) || hasSeparator(fileId) || hasSeparator(file.path)) {
      return Promise.reject(new EngineError("STORE_FAILED", "an asset id, file id or path with a separator"));
    }
    this.#setFile(assetId, fileId, file);
    return this.#append({ a: assetId, f: fileId, p: file.path, s: file.size });
  }

  recordAsset(assetId: string): Promise<void> {
    if (this.hasAsset(assetId)) return Promise.resolve();
    if (hasSeparator(assetId)) {
      return Promise.reject(new EngineError("STORE_FAILED", "an asset id with a separator"));
    }
    this.#markDone(assetId);
    return this.#append({ a: assetId, done: true });
  }

  /**
   * Forgets an asset and its files (after they were archived): a later download of it starts over.
   * Written as one line, so a crash keeps either the whole asset or none of it.
   */
  forget(assetId: string): Promise<void> {
    if (!this.#assets.has(assetId)) return Promise.resolve();
    this.#drop(assetId);
    return this.#append({ a: assetId, gone: true });
  }

  #append(line: unknown): Promise<void> {
    const text = `${JSON.stringify(line)}\n`;
    this.#queue = this.#queue
      .catch(() => undefined)
      .then(async () => {
        if (!this.#handle) throw new EngineError("STORE_FAILED", "download index is closed");
        await this.#handle.appendFile(text, "utf8");
      });
    return this.#queue;
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    await this.#handle?.close();
    this.#handle = undefined;
  }
}
