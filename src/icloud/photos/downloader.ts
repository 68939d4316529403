import { createHash } from "node:crypto";
import { chmod, mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { EngineError, toEngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import type { DownloadIndex } from "./download-index.ts";
import { ExpiredUrlError, type Fetcher, fetchToPart } from "./file-fetch.ts";
import { dateParts, folderSegments, resolveInside, sanitizeFilename, withSuffix } from "./safe-path.ts";
import type { IcplFile, PhotoItem } from "./types.ts";

export interface DownloaderOptions {
  /** Library folder; every file lands inside it (checked per path). */
  libraryDir: string;
  index: DownloadIndex;
  /** GET with the session's cookies (`ServiceTransport.download`). */
  fetcher: Fetcher;
  /** Fresh download URLs for an item (`PhotosService.refresh`), used once when a URL expired (403/410). */
  refresh?: (item: PhotoItem, signal?: AbortSignal) => Promise<PhotoItem | undefined>;
  /** Folders by local capture date: `{yyyy}/{mm}/{dd}` (default), `{yyyy}/{mm}`, `none` (flat), ... */
  folderStructure?: string;
  /** Also fetch the Live Photo video (`IMG_1_HEVC.MOV` next to `IMG_1.HEIC`). Default false. */
  liveVideos?: boolean;
  /** Also fetch the JPEG thumbnail (`IMG_1_thumb.jpg`). Default false. */
  thumbnails?: boolean;
  /** Files downloaded at the same time. Default 3. */
  concurrency?: number;
  /** Attempts per file in one run (each resumes the previous one). Default 3. */
  attempts?: number;
  /** Mode of the files written (umask does not apply); folders created get `folderMode(fileMode)`. Default 0o600. */
  fileMode?: number;
  logger?: Logger;
}

export interface DownloadResult {
  assetId: string;
  status: "downloaded" | "skipped" | "failed";
  /** True the first time the asset is fetched completely; false on every later run. */
  isNew: boolean;
  /** Files written or found, relative to the library folder. */
  files: string[];
  bytes: number;
  error?: EngineError;
}

/** Short stable id used to tell two different files with the same name apart. */
function shortId(assetId: string): string {
  return createHash("sha256").update(assetId).digest("hex").slice(0, 8);
}

/** File name of one resource, derived from the asset's (sanitised) name. */
export function nameFor(item: PhotoItem, file: IcplFile, fallback: string): string {
  const base = sanitizeFilename(item.asset.filename, fallback);
  const dot = base.lastIndexOf(".");
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot + 1) : file.extension;
  if (file.role === "original") return dot > 0 ? base : `${stem}.${file.extension}`;
  if (file.role === "live_video") {
    const hevc = ext.toLowerCase() === "heic" ? "_HEVC" : "";
    return sanitizeFilename(`${stem}${hevc}.${file.extension.toUpperCase()}`, fallback);
  }
  const label = file.role === "thumbnail" ? "thumb" : file.role;
  return sanitizeFilename(`${stem}_${label}.${file.extension}`, fallback);
}

/** A folder's mode for files of `fileMode`: search (x) added for whoever may read or write. */
export function folderMode(fileMode: number): number {
  let mode = fileMode & 0o777;
  for (const shift of [6, 3, 0]) if (((mode >> shift) & 0o6) !== 0) mode |= 1 << shift;
  return mode;
}

/** Creates `dir` and its missing parents with `mode` (set explicitly: umask does not apply); existing folders keep theirs. */
async function makeFolders(dir: string, mode: number): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode });
  if (first === undefined) return;
  const created = [dir];
  for (let at = dir; at !== first && path.dirname(at) !== at; ) {
    at = path.dirname(at);
    created.push(at);
  }
  for (const folder of created) await chmod(folder, mode);
}

/** Temporary file of one asset's download next to its target: `.<name>.<id>.part`. */
function partPath(target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.part`);
}

async function sizeOf(file: string): Promise<number | undefined> {
  return stat(file).then(
    (s) => s.size,
    () => undefined,
  );
}

/**
 * Streams photo files into a library folder: temporary `.<name>.<id>.part` next to the target,
 * resume with `Range`, rename only when the size matches the record, never overwrite a different
 * file of the same name, and a persistent index so a restart never fetches or reports an asset twice.
 */
export class Downloader {
  readonly #o: Required<Omit<DownloaderOptions, "refresh" | "logger">> & Pick<DownloaderOptions, "refresh">;
  readonly #log: Logger;
  /** Absolute target paths being written by this process right now. */
  readonly #reserved = new Set<string>();
  readonly #root: string;

  constructor(options: DownloaderOptions) {
    this.#o = {
      folderStructure: "{yyyy}/{mm}/{dd}",
      liveVideos: false,
      thumbnails: false,
      concurrency: 3,
      attempts: 3,
      fileMode: 0o600,
      ...options,
    };
    this.#root = path.resolve(options.libraryDir);
    this.#log = (options.logger ?? silentLogger).child({ module: "photos-downloader" });
  }

  wantedFiles(item: PhotoItem): IcplFile[] {
    return item.asset.files.filter(
      (file) =>
        file.role === "original" ||
        (file.role === "live_video" && this.#o.liveVideos) ||
        (file.role === "thumbnail" && this.#o.thumbnails),
    );
  }

  /** Fetches the wanted files of one item. Resolves with a result; only an abort rejects. */
  async download(item: PhotoItem, signal?: AbortSignal): Promise<DownloadResult> {
    const assetId = item.asset.id;
    if (this.#o.index.hasAsset(assetId)) return { assetId, status: "skipped", isNew: false, files: [], bytes: 0 };
    const result: DownloadResult = { assetId, status: "downloaded", isNew: true, files: [], bytes: 0 };
    let current = item;
    let refreshed = false;
    try {
      const wanted = this.wantedFiles(item);
      if (!wanted.some((file) => file.role === "original")) {
        throw new EngineError("DOWNLOAD_FAILED", "the record lists no original file");
      }
      for (const file of wanted) {
        const known = this.#o.index.file(assetId, file.id);
        if (known && (await this.#restore(assetId, file, known.path))) {
          result.files.push(known.path);
          continue;
        }
        for (;;) {
          try {
            const url = current.downloads.get(file.id);
            if (url === undefined) throw new ExpiredUrlError("no download URL in the record");
            const written = await this.#downloadFile(current, file, url, signal);
            result.files.push(written.path);
            result.bytes += written.bytes;
            break;
          } catch (error) {
            if (!(error instanceof ExpiredUrlError) || refreshed || !this.#o.refresh) throw error;
            refreshed = true;
            this.#log.debug("download URL expired, asking CloudKit for a fresh one", { asset: assetId });
            const fresh = await this.#o.refresh(current, signal);
            if (!fresh) throw new EngineError("NOT_FOUND", "the asset is no longer in the library");
            current = fresh;
          }
        }
      }
      await this.#o.index.recordAsset(assetId);
      this.#log.debug("downloaded", { asset: assetId, files: result.files });
      return result;
    } catch (error) {
      if (signal?.aborted) throw error;
      const failure =
        error instanceof ExpiredUrlError
          ? new EngineError("DOWNLOAD_FAILED", error.message)
          : toEngineError(error, "DOWNLOAD_FAILED");
      this.#log.warn("download failed", { asset: assetId, error: failure.message });
      return { ...result, status: "failed", isNew: false, error: failure };
    }
  }

  async #downloadFile(item: PhotoItem, file: IcplFile, url: string, signal?: AbortSignal) {
    const date = item.asset.local_date_created ?? item.asset.date_created;
    const folder = folderSegments(this.#o.folderStructure, dateParts(date));
    const dir = folder.length > 0 ? resolveInside(this.#root, ...folder) : this.#root;
    const name = nameFor(item, file, `asset-${shortId(item.asset.id)}`);
    const suffix = shortId(item.asset.id);
    const candidates = [name, withSuffix(name, suffix)];
    await makeFolders(dir, folderMode(this.#o.fileMode));
    let chosen: string | undefined;
    for (const candidate of candidates) {
      const target = resolveInside(this.#root, path.relative(this.#root, dir), candidate);
      if (this.#reserved.has(target)) continue;
      // Reserved before the first await, so two items with the same name cannot both pick it.
      this.#reserved.add(target);
      const existing = await sizeOf(target);
      if (existing !== undefined && existing === file.size && this.#indexedAt(item.asset.id, file, target)) {
        // The index says this very file is ours (it is written before the rename, see below). A file
        // of the same name and size that the index does not point to is another photo: never taken.
        this.#reserved.delete(target);
        return { path: this.#relative(target), bytes: 0 };
      }
      if (existing === undefined || candidate === candidates[candidates.length - 1]) {
        chosen = target;
        break;
      }
      this.#reserved.delete(target);
    }
    if (chosen === undefined) throw new EngineError("DOWNLOAD_FAILED", "no free file name for the asset");
    const partOf = (target: string) => partPath(target, suffix);
    try {
      for (const candidate of candidates) {
        // A part this asset left under a name it no longer gets (another file took the name meanwhile).
        const other = path.join(dir, candidate);
        if (other !== chosen && !this.#reserved.has(other)) await rm(partOf(other), { force: true });
      }
      const part = partOf(chosen);
      for (let attempt = 1; ; attempt++) {
        try {
          await fetchToPart(this.#o.fetcher, url, part, file.size, signal, this.#o.fileMode);
          break;
        } catch (error) {
          if (signal?.aborted || error instanceof ExpiredUrlError || attempt >= this.#o.attempts) throw error;
          this.#log.debug("download interrupted, resuming", { asset: item.asset.id, attempt });
        }
      }
      // Index first, then rename: a crash in between leaves a complete `.part` that the index points
      // to (restored by `#restore`), so a finished file under its final name is always one of ours.
      const relative = this.#relative(chosen);
      await this.#o.index.recordFile(item.asset.id, file.id, { path: relative, size: file.size });
      await chmod(part, this.#o.fileMode);
      await rename(part, chosen);
      return { path: relative, bytes: file.size };
    } finally {
      this.#reserved.delete(chosen);
    }
  }

  #relative(target: string): string {
    return path.relative(this.#root, target).split(path.sep).join("/");
  }

  #indexedAt(assetId: string, file: IcplFile, target: string): boolean {
    return this.#o.index.file(assetId, file.id)?.path === this.#relative(target);
  }

  /**
   * True when the file the index records for this asset is on disk: under its final name, or as this
   * asset's complete `.part` left by a crash between the index line and the rename (renamed now).
   * False sends the file through a normal download again.
   */
  async #restore(assetId: string, file: IcplFile, relative: string): Promise<boolean> {
    let target: string;
    try {
      target = resolveInside(this.#root, ...relative.split("/"));
    } catch {
      return false;
    }
    const existing = await sizeOf(target);
    if (existing !== undefined) return existing === file.size;
    const part = partPath(target, shortId(assetId));
    if ((await sizeOf(part)) !== file.size) return false;
    await chmod(part, this.#o.fileMode);
    await rename(part, target);
    this.#log.debug("finished a download interrupted before its rename", { asset: assetId, file: relative });
    return true;
  }

  /**
   * Downloads `items` with at most `concurrency` files in flight; memory stays bounded for async
   * iterators. On abort, in-flight files keep their `.part` for the next run and the call rejects.
   */
  async run(
    items: AsyncIterable<PhotoItem> | Iterable<PhotoItem>,
    options: { signal?: AbortSignal; onResult?: (result: DownloadResult) => void } = {},
  ): Promise<{ downloaded: number; skipped: number; failed: number; bytes: number }> {
    const summary = { downloaded: 0, skipped: 0, failed: 0, bytes: 0 };
    const iterator =
      Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<PhotoItem>)[Symbol.iterator]();
    const worker = async (): Promise<void> => {
      for (;;) {
        options.signal?.throwIfAborted();
        const next = await iterator.next();
        if (next.done) return;
        const result = await this.download(next.value, options.signal);
        summary[result.status]++;
        summary.bytes += result.bytes;
        options.onResult?.(result);
      }
    };
    const workers = Array.from({ length: Math.max(1, this.#o.concurrency) }, () => worker());
    const settled = await Promise.allSettled(workers);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    return summary;
  }
}
