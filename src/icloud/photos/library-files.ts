import { createHash } from "node:crypto";
import { link, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { type Logger, silentLogger } from "../../logger.ts";
import type { DownloadIndex } from "./download-index.ts";
import { resolveInside, sanitizeFilename, withSuffix } from "./safe-path.ts";

/**
 * What the mirror keeps in the library folder besides the downloads: `_Archive/` for files of
 * assets deleted or hidden in iCloud (`on_delete: archive`), and `_Albums/` with one folder per user
 * album holding links to the downloaded files. Both stay inside the library folder (every path goes
 * through `resolveInside`), and the downloader's folder structure cannot produce either name
 * (`{yyyy}` and friends are digits; a literal prefix is refused by the configuration).
 */
export const ARCHIVE_DIR = "_Archive";
export const ALBUMS_DIR = "_Albums";

function shortId(id: string): string {
  return createHash("sha256").update(id).digest("hex").slice(0, 8);
}

function segmentsOf(relative: string): string[] {
  return relative.split("/").filter((s) => s !== "");
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Moves the downloaded files of an asset into `_Archive/` under the same relative path (a name
 * taken there gets the asset's short id), then forgets the asset in the index, so the asset is
 * downloaded again if it comes back (restored from Recently Deleted, unhidden). Files already gone
 * are skipped, so a repeat after a crash finishes the job. Returns the archived paths.
 */
export async function archiveAsset(
  libraryDir: string,
  index: DownloadIndex,
  assetId: string,
  logger: Logger = silentLogger,
): Promise<string[]> {
  const root = path.resolve(libraryDir);
  const moved: string[] = [];
  for (const { file } of index.filesOf(assetId)) {
    const parts = segmentsOf(file.path);
    if (parts[0] === ARCHIVE_DIR || parts[0] === ALBUMS_DIR) continue;
    const source = resolveInside(root, ...parts);
    if (!(await exists(source))) continue;
    const folder = parts.slice(0, -1);
    const name = parts.at(-1) ?? "unnamed";
    let target = resolveInside(root, ARCHIVE_DIR, ...folder, name);
    if (await exists(target)) target = resolveInside(root, ARCHIVE_DIR, ...folder, withSuffix(name, shortId(assetId)));
    await mkdir(path.dirname(target), { recursive: true });
    await rename(source, target);
    moved.push(path.relative(root, target).split(path.sep).join("/"));
  }
  await index.forget(assetId);
  if (moved.length > 0) logger.info("archived the files of a photo removed from iCloud", { files: moved });
  return moved;
}

export interface AlbumFolder {
  /** The iCloud folders holding the album, then the album itself, from `_Albums/` down (names sanitised here). */
  path: readonly { id: string; name: string }[];
  /** Asset record names in the album. */
  members: readonly string[];
}

export interface AlbumSyncResult {
  albums: number;
  linked: number;
  removed: number;
  /** Links made as symbolic links because the file system refused a hard link. */
  symlinks: number;
}

/** Errors of `link()` that mean "no hard links here", not "something is wrong". */
const NO_HARD_LINKS = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK", "ENOSYS"]);

/**
 * Makes `_Albums/` mirror `albums`: one folder per album (nested under its iCloud folders), holding
 * a hard link to every downloaded file of its members (a relative symbolic link where hard links are
 * refused), named like the file; a second file of the same name in one album gets the asset's short
 * id. Links and folders no longer wanted are removed; nothing outside `_Albums/` is touched, and
 * files are never copied. Members not downloaded (yet) are left out until a later run.
 */
export async function syncAlbumLinks(
  libraryDir: string,
  index: DownloadIndex,
  albums: readonly AlbumFolder[],
): Promise<AlbumSyncResult> {
  const root = path.resolve(libraryDir);
  const albumsRoot = resolveInside(root, ALBUMS_DIR);
  const result: AlbumSyncResult = { albums: 0, linked: 0, removed: 0, symlinks: 0 };
  const wantedDirs = new Set<string>();
  /** Folder path → the iCloud id that has it, so two albums of the same name get two folders. */
  const owners = new Map<string, string>();
  for (const album of albums) {
    if (album.path.length === 0) continue;
    const segments: string[] = [];
    for (const { id, name } of album.path) {
      let clean = sanitizeFilename(name, `album-${shortId(id)}`);
      const key = [...segments, clean].join("/").toLowerCase();
      if (owners.has(key) && owners.get(key) !== id) clean = withSuffix(clean, shortId(id));
      owners.set([...segments, clean].join("/").toLowerCase(), id);
      segments.push(clean);
    }
    const dir = resolveInside(albumsRoot, ...segments);
    for (let i = 1; i <= segments.length; i++) wantedDirs.add(resolveInside(albumsRoot, ...segments.slice(0, i)));
    await mkdir(dir, { recursive: true });
    const outcome = await syncOneAlbum(root, dir, index, album.members);
    result.albums++;
    result.linked += outcome.linked;
    result.removed += outcome.removed;
    result.symlinks += outcome.symlinks;
  }
  result.removed += await removeUnwanted(albumsRoot, wantedDirs);
  return result;
}

async function syncOneAlbum(
  root: string,
  dir: string,
  index: DownloadIndex,
  members: readonly string[],
): Promise<{ linked: number; removed: number; symlinks: number }> {
  const wanted = new Map<string, string>();
  for (const assetId of members) {
    for (const { file } of index.filesOf(assetId)) {
      if (!index.hasAsset(assetId)) continue;
      const parts = segmentsOf(file.path);
      const name = parts.at(-1);
      if (name === undefined) continue;
      const target = resolveInside(root, ...parts);
      const linkName = wanted.has(name) && wanted.get(name) !== target ? withSuffix(name, shortId(assetId)) : name;
      wanted.set(linkName, target);
    }
  }
  let linked = 0;
  let removed = 0;
  let symlinks = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    const target = wanted.get(entry.name);
    if (target !== undefined && !entry.isDirectory() && (await pointsTo(at, target))) {
      wanted.delete(entry.name);
      continue;
    }
    // Album folders inside a folder are handled by the caller; anything else here is a stale link.
    if (entry.isDirectory()) continue;
    await rm(at, { force: true });
    removed++;
  }
  for (const [name, target] of wanted) {
    const at = resolveInside(dir, name);
    try {
      await link(target, at);
      linked++;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOENT") continue; // the file is not on disk (yet)
      if (!NO_HARD_LINKS.has(code)) throw error;
      await symlink(path.relative(dir, target), at);
      linked++;
      symlinks++;
    }
  }
  return { linked, removed, symlinks };
}

/** True when `at` is a hard link to `target` (same inode) or a symbolic link resolving to it. */
async function pointsTo(at: string, target: string): Promise<boolean> {
  try {
    const own = await lstat(at);
    if (own.isSymbolicLink()) return path.resolve(path.dirname(at), await readlink(at)) === target;
    const other = await stat(target);
    return own.ino === other.ino && own.dev === other.dev;
  } catch {
    return false;
  }
}

/** Removes folders under `_Albums/` that no album wants (their links only; never follows a link). */
async function removeUnwanted(albumsRoot: string, wanted: ReadonlySet<string>): Promise<number> {
  let removed = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) {
        if (dir === albumsRoot) {
          await rm(path.join(dir, entry.name), { force: true });
          removed++;
        }
        continue;
      }
      const child = path.join(dir, entry.name);
      if (wanted.has(child)) await walk(child);
      else {
        await rm(child, { recursive: true, force: true });
        removed++;
      }
    }
  };
  await walk(albumsRoot);
  return removed;
}
