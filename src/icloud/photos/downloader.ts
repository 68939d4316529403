import { createHash } from "node:crypto";
import { chmod, mkdir, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { EngineError, toEngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import type { DownloadIndex } from "./download-index.ts";
import { ExpiredUrlError, type Fetcher, fetchToPart } from "./file-fetch.ts";
import { dateParts, folderSegments, MAX_NAME_BYTES, resolveInside, sanitizeFilename, withSuffix } from "./safe-path.ts";
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

/** Errno codes that concern the whole library folder, not one file: the run stops on the first. */
const FOLDER_ERRNOS = new Map<string, string>([
  ["ENOSPC", "the disk holding the library folder is full"],
  ["EDQUOT", "the disk quota of the library folder is used up"],
  ["EROFS", "the library folder is on a read-only file system"],
  ["EACCES", "no permission to write in the library folder"],
  ["EPERM", "no permission to write in the library folder"],
]);

/**
 * A download failure with a message a person can act on. Disk full, read-only and permission
 * problems carry `info.folder_error` (the errno) and stop a run: every further file would fail too.
 */
export function downloadFailure(error: unknown): EngineError {
  if (error instanceof ExpiredUrlError) return new EngineError("DOWNLOAD_FAILED", error.message);
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  // A Map, not an object: a `code` such as "constructor" must not find Object.prototype's members.
  const folder = FOLDER_ERRNOS.get(String(errno));
  if (folder !== undefined && !(error instanceof EngineError)) {
    return new EngineError("DOWNLOAD_FAILED", `${folder} (${errno}); the download is retried later`, {
      cause: error,
      info: { folder_error: errno },
    });
  }
  return toEngineError(error, "DOWNLOAD_FAILED");
}

/** True for failures of the library folder as a whole (see {@link downloadFailure}). */
export function isFolderFailure(error: EngineError | undefined): boolean {
  return typeof error?.info["folder_error"] === "string";
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

/** `IMG_1.HEIC` + 1234 → `IMG_1-1234.HEIC` (the stem shortened when the name would get too long). */
export function withSizeSuffix(filename: string, size: number): string {
  const dot = filename.lastIndexOf(".");
  const stem = dot > 0 ? filename.slice(0, dot) : filename;
  const ext = dot > 0 ? filename.slice(dot) : "";
  const tail = `-${size}${ext}`;
  let kept = "";
  let bytes = 0;
  for (const char of stem) {
    bytes += Buffer.byteLength(char, "utf8");
    if (bytes > MAX_NAME_BYTES - Buffer.byteLength(tail, "utf8")) break;
    kept += char;
  }
  return `${kept}${tail}`;
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
  // Walked down from `first` to `dir`, so nothing above the folders created here is ever changed.
  let at = first;
  await chmod(at, mode);
  for (const segment of path.relative(first, dir).split(path.sep)) {
    if (segment === "") continue; // `dir` itself was the first folder created
    at = path.join(at, segment);
    await chmod(at, mode);
  }
}

/** Temporary file of one asset's download next to its target: `.<name>.<id>.part`. */
function partPath(target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.part`);
}

/** `unlink`, quiet when the file is not there (`rm({force})` walks rimraf's machinery for one file). */
async function removeIfThere(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
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
  /** Assets being downloaded right now: a second request for one waits for the first (poll and backfill overlap). */
  readonly #inFlight = new Map<string, Promise<DownloadResult>>();
  /** Folders this downloader created or found (a `mkdir` per file was a tenth of the time per file). */
  readonly #folders = new Set<string>();
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

  /**
   * Fetches the wanted files of one item. Resolves with a result; only an abort rejects. An asset
   * the index records as complete is skipped, unless `verify` asks to check its files on disk
   * (missing or truncated ones are fetched again; `isNew` stays false).
   */
  download(item: PhotoItem, signal?: AbortSignal, options: { verify?: boolean } = {}): Promise<DownloadResult> {
    const assetId = item.asset.id;
    const running = this.#inFlight.get(assetId);
    if (running !== undefined) {
      return running.then((first) => ({
        ...first,
        status: first.status === "failed" ? "failed" : "skipped",
        isNew: false,
        bytes: 0,
      }));
    }
    if (this.#o.index.hasAsset(assetId) && options.verify !== true) {
      return Promise.resolve({ assetId, status: "skipped", isNew: false, files: [], bytes: 0 });
    }
    const promise = this.#download(item, signal).finally(() => this.#inFlight.delete(assetId));
    this.#inFlight.set(assetId, promise);
    return promise;
  }

  async #download(item: PhotoItem, signal?: AbortSignal): Promise<DownloadResult> {
    const assetId = item.asset.id;
    const wasDone = this.#o.index.hasAsset(assetId);
    const result: DownloadResult = { assetId, status: "downloaded", isNew: !wasDone, files: [], bytes: 0 };
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
      if (wasDone && result.bytes === 0) return { ...result, status: "skipped" };
      this.#log.debug("downloaded", { asset: assetId, files: result.files });
      return result;
    } catch (error) {
      if (signal?.aborted) throw error;
      const failure = downloadFailure(error);
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
    // icloudpd's default `name-size-dedup-with-suffix`: a second, different file of the same name is
    // `IMG_1234-<size>.JPG`; should that be taken by a file that is not ours, the asset's short id follows.
    const sized = withSizeSuffix(name, file.size);
    const candidates = [name, sized, withSuffix(sized, suffix)];
    if (!this.#folders.has(dir)) {
      await makeFolders(dir, folderMode(this.#o.fileMode));
      this.#folders.add(dir);
    }
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
        if (other !== chosen && !this.#reserved.has(other)) await removeIfThere(partOf(other));
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
   * A failure of the library folder itself (disk full, read-only, no permission) stops handing out
   * further items: the summary's `stopped` names it, and the remaining items are left for a later run.
   */
  async run(
    items: AsyncIterable<PhotoItem> | Iterable<PhotoItem>,
    options: { signal?: AbortSignal; verify?: boolean; onResult?: (result: DownloadResult) => void } = {},
  ): Promise<{ downloaded: number; skipped: number; failed: number; bytes: number; stopped?: EngineError }> {
    const summary: { downloaded: number; skipped: number; failed: number; bytes: number; stopped?: EngineError } = {
      downloaded: 0,
      skipped: 0,
      failed: 0,
      bytes: 0,
    };
    const iterator =
      Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<PhotoItem>)[Symbol.iterator]();
    const verify = options.verify === true ? { verify: true } : {};
    const worker = async (): Promise<void> => {
      for (;;) {
        options.signal?.throwIfAborted();
        if (summary.stopped) return;
        const next = await iterator.next();
        if (next.done) return;
        const result = await this.download(next.value, options.signal, verify);
        summary[result.status]++;
        summary.bytes += result.bytes;
        if (result.status === "failed" && isFolderFailure(result.error)) summary.stopped ??= result.error;
        options.onResult?.(result);
      }
    };
    const workers = Array.from({ length: Math.max(1, this.#o.concurrency) }, () => worker());
    const settled = await Promise.allSettled(workers);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    // Stopped early: let an async source (a CloudKit listing) release what it holds.
    if (summary.stopped) await iterator.return?.();
    return summary;
  }
}
