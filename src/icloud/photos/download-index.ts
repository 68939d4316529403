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

export class DownloadIndex {
  readonly #file: string;
  readonly #files = new Map<string, IndexedFile>();
  /** File ids per asset, so an asset's files are found without scanning every file. */
  readonly #fileIds = new Map<string, string[]>();
  readonly #done = new Set<string>();
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
      if ("done" in parsed.data) index.#done.add(parsed.data.a);
      else if ("gone" in parsed.data) index.#drop(parsed.data.a);
      else index.#setFile(parsed.data.a, parsed.data.f, { path: parsed.data.p, size: parsed.data.s });
    }
    if (lines > index.#files.size + index.#done.size) await index.#compact();
    index.#handle = await open(file, "a", 0o600);
    return index;
  }

  async #compact(): Promise<void> {
    const out: string[] = [];
    for (const [key, file] of this.#files) {
      const [a, f] = key.split("\n");
      out.push(JSON.stringify({ a, f, p: file.path, s: file.size }));
    }
    for (const a of this.#done) out.push(JSON.stringify({ a, done: true }));
    const temp = `${this.#file}.${process.pid}.tmp`;
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(out.length > 0 ? `${out.join("\n")}\n` : "");
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
    const key = `${assetId}\n${fileId}`;
    if (!this.#files.has(key)) {
      const ids = this.#fileIds.get(assetId);
      if (ids) ids.push(fileId);
      else this.#fileIds.set(assetId, [fileId]);
    }
    this.#files.set(key, file);
  }

  #drop(assetId: string): void {
    for (const fileId of this.#fileIds.get(assetId) ?? []) this.#files.delete(`${assetId}\n${fileId}`);
    this.#fileIds.delete(assetId);
    this.#done.delete(assetId);
  }

  /** True once every wanted file of the asset was fetched. */
  hasAsset(assetId: string): boolean {
    return this.#done.has(assetId);
  }

  file(assetId: string, fileId: string): IndexedFile | undefined {
    return this.#files.get(`${assetId}\n${fileId}`);
  }

  get assetCount(): number {
    return this.#done.size;
  }

  /** The files recorded for an asset (complete ones, and one whose rename a crash may have cut short). */
  filesOf(assetId: string): { fileId: string; file: IndexedFile }[] {
    return (this.#fileIds.get(assetId) ?? []).flatMap((fileId) => {
      const file = this.#files.get(`${assetId}\n${fileId}`);
      return file ? [{ fileId, file }] : [];
    });
  }

  /** Every asset recorded as complete (a snapshot). */
  assetIds(): string[] {
    return [...this.#done];
  }

  recordFile(assetId: string, fileId: string, file: IndexedFile): Promise<void> {
    this.#setFile(assetId, fileId, file);
    return this.#append({ a: assetId, f: fileId, p: file.path, s: file.size });
  }

  recordAsset(assetId: string): Promise<void> {
    if (this.#done.has(assetId)) return Promise.resolve();
    this.#done.add(assetId);
    return this.#append({ a: assetId, done: true });
  }

  /**
   * Forgets an asset and its files (after they were archived): a later download of it starts over.
   * Written as one line, so a crash keeps either the whole asset or none of it.
   */
  forget(assetId: string): Promise<void> {
    if (!this.#done.has(assetId) && !this.#fileIds.has(assetId)) return Promise.resolve();
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
