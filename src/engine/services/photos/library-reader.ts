import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { EngineError } from "../../../errors.ts";
import { ExpiredUrlError, fetchToPart } from "../../../icloud/photos/file-fetch.ts";
import type { LibraryZone, PhotosService } from "../../../icloud/photos/photos-service.ts";
import type { IcplAsset, IcplFile, PhotoItem } from "../../../icloud/photos/types.ts";
import type { ServiceTransport } from "../../../icloud/service-transport.ts";
import type { Logger } from "../../../logger.ts";
import type { PhotosConfig } from "./config.ts";

/** Files fetched on request stay this long in the cache (`<state>/files/<account>/`), then are removed. */
export const FILE_CACHE_TTL_MS = 60 * 60_000;
/** The zone list is read again after this long. */
const ZONES_TTL_MS = 10 * 60_000;
const ATTEMPTS = 3;

export interface PhotoListOptions {
  since?: string;
  until?: string;
  limit: number;
}

/** Which asset a file belongs to: the `id`, `master_id` and `zone` of its `icpl.asset`. */
export interface PhotoFileRef {
  file: string;
  asset: string;
  master_id: string;
  zone: string;
}

export interface FetchedPhotoFile {
  id: string;
  /** Absolute path of the file in the engine's file cache (removed an hour after it was fetched). */
  path: string;
  size: number;
  extension: string;
  data_type: IcplFile["data_type"];
  role: IcplFile["role"];
}

/**
 * Reads the library on request, apart from the polling job: a listing newest added first (ricloud's
 * `icpl.photos` with `since`/`until`), and single files by `icpl://` id into a small cache folder,
 * resumed and retried like downloads, with fresh URLs once when Apple refuses an expired one.
 */
export class PhotoLibraryReader {
  readonly #service: PhotosService;
  readonly #transport: ServiceTransport;
  readonly #config: PhotosConfig;
  readonly #dir: string;
  readonly #log: Logger;
  #zones: { at: number; zones: LibraryZone[] } | undefined;

  constructor(
    service: PhotosService,
    transport: ServiceTransport,
    config: PhotosConfig,
    options: { stateDir: string; account: string; log: Logger },
  ) {
    this.#service = service;
    this.#transport = transport;
    this.#config = config;
    this.#dir = join(options.stateDir, "files", options.account);
    this.#log = options.log;
  }

  /** Visible items of the followed libraries, newest added first, at most `limit`. */
  async list(options: PhotoListOptions): Promise<IcplAsset[]> {
    const out: IcplAsset[] = [];
    for (const zone of await this.#libraryZones()) {
      let taken = 0;
      const walk = this.#service.enumerate(
        {
          order: "desc",
          ...(options.since === undefined ? {} : { since: options.since }),
          ...(options.until === undefined ? {} : { until: options.until }),
        },
        zone,
      );
      for await (const item of walk) {
        out.push(item.asset);
        taken += 1;
        if (taken >= options.limit) break;
      }
    }
    out.sort((a, b) => Date.parse(b.date_uploaded) - Date.parse(a.date_uploaded));
    return out.slice(0, options.limit);
  }

  /** Fetches one file of an asset into the cache (or finds it there) and says where it is. */
  async file(ref: PhotoFileRef): Promise<FetchedPhotoFile> {
    await this.#sweep();
    let item = await this.#lookup(ref);
    const file = item.asset.files.find((candidate) => candidate.id === ref.file);
    if (file === undefined) throw new EngineError("NOT_FOUND", `the asset has no file ${ref.file}`);
    const name = createHash("sha256").update(`${ref.asset}\n${ref.file}`).digest("hex").slice(0, 40);
    const extension = file.extension.toLowerCase().replace(/[^a-z0-9]/g, "") || "bin";
    const path = join(this.#dir, `${name}.${extension}`);
    const result: FetchedPhotoFile = {
      id: file.id,
      path,
      size: file.size,
      extension,
      data_type: file.data_type,
      role: file.role,
    };
    if ((await sizeOf(path)) === file.size) return result;
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const part = `${path}.part`;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const url = item.downloads.get(file.id);
      try {
        if (url === undefined) throw new ExpiredUrlError("no download URL in the record");
        await fetchToPart(this.#transport, url, part, file.size);
        break;
      } catch (error) {
        if (error instanceof ExpiredUrlError && !refreshed) {
          refreshed = true;
          const fresh = await this.#service.refresh(item);
          if (fresh === undefined) throw new EngineError("NOT_FOUND", "the asset is no longer in the library");
          item = fresh;
          continue;
        }
        if (error instanceof ExpiredUrlError) throw new EngineError("DOWNLOAD_FAILED", error.message);
        if (attempt >= ATTEMPTS) throw error;
        this.#log.debug("file fetch interrupted, resuming", { attempt });
      }
    }
    await chmod(part, 0o600);
    await rename(part, path);
    return result;
  }

  async #lookup(ref: PhotoFileRef): Promise<PhotoItem> {
    const zone = (await this.#allZones()).find((candidate) => candidate.zoneID.zoneName === ref.zone);
    if (zone === undefined) throw new EngineError("NOT_FOUND", `no photo library zone ${ref.zone}`);
    const [item] = await this.#service.lookup(zone, [{ id: ref.asset, master_id: ref.master_id }]);
    if (item === undefined) throw new EngineError("NOT_FOUND", "the asset is no longer in the library");
    return item;
  }

  async #allZones(): Promise<LibraryZone[]> {
    if (this.#zones === undefined || Date.now() - this.#zones.at > ZONES_TTL_MS) {
      this.#zones = { at: Date.now(), zones: await this.#service.zones() };
    }
    return this.#zones.zones;
  }

  /** The zones `photos.library` follows: the personal library only for `private`. */
  async #libraryZones(): Promise<LibraryZone[]> {
    const zones = await this.#allZones();
    if (this.#config.library === "private") return zones.filter((zone) => zone.zoneID.zoneName === "PrimarySync");
    if (this.#config.library === "shared") return zones.filter((zone) => zone.zoneID.zoneName !== "PrimarySync");
    return zones;
  }

  /** Removes cached files older than the TTL (and parts left by crashes). */
  sweep(): Promise<void> {
    return this.#sweep();
  }

  async #sweep(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return;
    }
    const cutoff = Date.now() - FILE_CACHE_TTL_MS;
    for (const name of names) {
      const path = join(this.#dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
