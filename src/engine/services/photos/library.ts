import { createHash } from "node:crypto";
import path from "node:path";
import { EngineError } from "../../../errors.ts";
import { AccountLock, type LockLease } from "../../../icloud/account-lock.ts";
import { DownloadIndex } from "../../../icloud/photos/download-index.ts";
import { Downloader } from "../../../icloud/photos/downloader.ts";
import type { LibraryZone, PhotosService } from "../../../icloud/photos/photos-service.ts";
import type { ServiceTransport } from "../../../icloud/service-transport.ts";
import type { Logger } from "../../../logger.ts";
import type { PhotosConfig } from "./config.ts";
import { LibraryMirror } from "./mirror.ts";

/**
 * The download index of an account's library folder: `downloads/<account>.json` for the configured
 * folder, `downloads/<account>.<hash of the folder>.json` for any other (the CLI's `--folder`), since
 * the index records paths relative to its folder.
 */
export function indexFileFor(stateDir: string, account: string, folder: string, configured: string | null): string {
  const own = configured !== null && path.resolve(configured) === path.resolve(folder);
  const suffix = own ? "" : `.${createHash("sha256").update(path.resolve(folder)).digest("hex").slice(0, 12)}`;
  return path.join(stateDir, "downloads", `${account}${suffix}.json`);
}

/** A library folder opened for downloading: its index (held by this process alone), downloader and mirror. */
export interface OpenLibrary {
  folder: string;
  index: DownloadIndex;
  downloader: Downloader;
  mirror: LibraryMirror;
  close(): Promise<void>;
}

/**
 * Opens a library folder's download index under a lock next to it (`<index>.lock`, the same lock
 * files as the sign-in lock): two processes writing one folder (the bridge and `photos download`)
 * could fetch one photo into the same `.part` at once. Fails with a message naming the holder.
 */
export async function openLibrary(options: {
  transport: ServiceTransport;
  service: PhotosService;
  download: PhotosConfig["download"];
  folder: string;
  indexFile: string;
  log: Logger;
}): Promise<OpenLibrary> {
  const lock = new AccountLock(`${options.indexFile}.lock`, { logger: options.log });
  const acquired = await lock.tryAcquire();
  if (!acquired.ok) {
    const holder = acquired.holder;
    const who = holder
      ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
      : "another process";
    throw new EngineError("DOWNLOAD_FAILED", `the photo folder ${options.folder} is being downloaded to by ${who}`, {
      info: holder ? { holder } : {},
    });
  }
  const lease: LockLease = acquired.lease;
  let index: DownloadIndex;
  try {
    index = await DownloadIndex.open(options.indexFile);
  } catch (error) {
    await lease.release();
    throw error;
  }
  const downloader = new Downloader({
    libraryDir: options.folder,
    index,
    fetcher: options.transport,
    refresh: (item, signal) => options.service.refresh(item, signal),
    folderStructure: options.download.structure,
    liveVideos: options.download.live_videos,
    thumbnails: options.download.thumbnails,
    concurrency: options.download.concurrency,
    fileMode: Number.parseInt(options.download.file_mode, 8),
    logger: options.log,
  });
  const mirror = new LibraryMirror({ service: options.service, downloader, index, log: options.log });
  return {
    folder: options.folder,
    index,
    downloader,
    mirror,
    close: async () => {
      await index.close();
      await lease.release();
    },
  };
}

/** The zones a library download covers, by `library`: the personal library, Shared Libraries, or both. */
export async function libraryZones(
  service: PhotosService,
  library: PhotosConfig["library"],
  signal?: AbortSignal,
): Promise<LibraryZone[]> {
  const zones = await service.zones(signal);
  if (library === "all") return zones;
  const personal = (zone: LibraryZone) => zone.zoneID.zoneName === "PrimarySync";
  return zones.filter((zone) => (library === "private" ? personal(zone) : !personal(zone)));
}
