import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, copyFile, link, mkdir, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { writeFileAtomic } from "../util/atomic-file.ts";
import { invalidParameter } from "./errors.ts";
import { ricloudDir } from "./key-store.ts";
import type { StorageConfig } from "./records.ts";
import { S3CredentialsSchema, S3Storage } from "./s3-storage.ts";

/** What a stored result file is: its `url`, size and MD5 (ricloud's `checksum`). */
export interface StoredObject {
  url: string;
  size: number;
  checksum: string;
}

/** Where result files go; one per storage config. Objects are `<poll>/<result>.<ext>`. */
export interface StorageBackend {
  put(object: string, data: Buffer): Promise<StoredObject>;
  /** Stores a file already on disk (a hard link when possible, else a copy). */
  putFile(object: string, path: string): Promise<StoredObject>;
  read(object: string): Promise<Readable>;
  remove(object: string): Promise<void>;
  /** Checks the storage can be written (the config test). */
  test(): Promise<void>;
}

const OBJECT_PATTERN = /^[A-Za-z0-9-]{1,100}\/[A-Za-z0-9.-]{1,120}$/;

function checkObject(object: string): void {
  if (!OBJECT_PATTERN.test(object) || object.includes("..")) throw new Error(`invalid object name ${object}`);
}

/** The folder of the default storage config: `<state_dir>/ricloud/results`. */
export function defaultResultsDir(stateDir: string): string {
  return join(ricloudDir(stateDir), "results");
}

/**
 * A `local://` URL's folder: relative paths are relative to `<state_dir>/ricloud/`, absolute ones must
 * lie inside it (results never land outside the state folder). Answers the canonical URL
 * (`local:///abs/path`, which ricloud-py's `Result.download()` reads as a plain path).
 */
export function localStorageUrl(stateDir: string, url: string): { url: string; dir: string } {
  const base = ricloudDir(stateDir);
  const raw = url.slice("local://".length);
  if (raw === "" || raw.includes("\0") || raw.length > 1000)
    throw invalidParameter("url", "a local:// path is required");
  const dir = isAbsolute(raw) ? resolve(raw) : resolve(base, raw);
  const inside = relative(base, dir);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside) || inside.split(sep).includes("..")) {
    throw invalidParameter("url", `local:// folders must lie inside ${base}`);
  }
  return { url: `local://${dir}`, dir };
}

async function md5File(path: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A folder on this machine; files 0600 in 0700 folders. */
export class LocalStorage implements StorageBackend {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(object: string): string {
    checkObject(object);
    return join(this.#dir, object);
  }

  async put(object: string, data: Buffer): Promise<StoredObject> {
    const path = this.#path(object);
    await writeFileAtomic(path, data);
    return { url: `local://${path}`, size: data.length, checksum: createHash("md5").update(data).digest("hex") };
  }

  async putFile(object: string, source: string): Promise<StoredObject> {
    const path = this.#path(object);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await rm(path, { force: true });
    try {
      await link(source, path);
    } catch {
      await copyFile(source, path);
    }
    await chmod(path, 0o600);
    const { size } = await stat(path);
    return { url: `local://${path}`, size, checksum: await md5File(path) };
  }

  async read(object: string): Promise<Readable> {
    const path = this.#path(object);
    await stat(path);
    return createReadStream(path);
  }

  async remove(object: string): Promise<void> {
    const path = this.#path(object);
    await rm(path, { force: true });
    await rmdir(dirname(path)).catch(() => undefined); // only when empty
  }

  async test(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const probe = join(this.#dir, `.probe-${process.pid}`);
    await writeFile(probe, "ok", { mode: 0o600 });
    await unlink(probe);
  }
}

/** The backend of a storage config. */
export function backendFor(stateDir: string, config: StorageConfig): StorageBackend {
  if (config.type === "local") return new LocalStorage(localStorageUrl(stateDir, config.url).dir);
  return new S3Storage(config.url, S3CredentialsSchema.parse(config._credentials ?? {}));
}
