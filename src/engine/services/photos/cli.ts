import path from "node:path";
import type { CliCommandRun } from "../../../cli/service-commands.ts";
import { EXIT } from "../../../cli/service-commands.ts";
import { PhotosService } from "../../../icloud/photos/photos-service.ts";
import { PhotosConfigSchema } from "./config.ts";
import { indexFileFor, libraryZones, openLibrary } from "./library.ts";
import { formatBytes, formatEta } from "./progress.ts";

/**
 * `icloud2mqtt photos download --account ID [--since DATE] [--until DATE] [--dry-run] [--folder DIR]`:
 * the whole library (or the photos taken in a date range) into a folder, like icloudpd, with the
 * bridge's file names, download index and guarantees: newest first, nothing fetched twice, safe to
 * interrupt and run again. Exit code 0 when every photo is on disk, 1 when some failed or the run
 * stopped (disk full, read-only folder), 2 when it could not start, 130 when interrupted.
 */

function dateOption(value: unknown): number | undefined | "invalid" {
  if (value === undefined) return undefined;
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? "invalid" : ms;
}

export const run: CliCommandRun = async (ctx, options) => {
  const { terminal } = ctx;
  const config = PhotosConfigSchema.parse(ctx.config ?? {});
  const folderOption = typeof options["folder"] === "string" ? path.resolve(options["folder"]) : undefined;
  const folder = folderOption ?? config.download.folder;
  if (folder === null) {
    terminal.warn("no folder: pass --folder DIR or set photos.download.folder for this account");
    return EXIT.unusable;
  }
  const since = dateOption(options["since"]);
  const until = dateOption(options["until"]);
  if (since === "invalid" || until === "invalid") {
    terminal.warn("--since and --until take a date such as 2024-05-01 or 2024-05-01T12:00:00Z");
    return EXIT.unusable;
  }
  const dryRun = options["dryRun"] === true;
  const service = new PhotosService(ctx.transport, { logger: ctx.log, includeShared: config.library !== "private" });
  const library = await openLibrary({
    transport: ctx.transport,
    service,
    download: config.download,
    folder,
    indexFile: indexFileFor(ctx.stateDir, ctx.account, folder, config.download.folder),
    log: ctx.log,
  }).catch((error: unknown) => {
    terminal.warn(error instanceof Error ? error.message : String(error));
    return undefined;
  });
  if (library === undefined) return EXIT.unusable;
  try {
    const zones = await libraryZones(service, config.library, ctx.signal);
    const summary = await library.mirror.walk(zones, {
      cursor: {},
      signal: ctx.signal,
      dryRun,
      ...(since === undefined ? {} : { createdFrom: since }),
      ...(until === undefined ? {} : { createdBefore: until }),
      onProgress: (progress) => {
        const eta = progress.eta_seconds === null ? "" : `, ETA ${formatEta(progress.eta_seconds)}`;
        terminal.progress({
          done: progress.items_done,
          total: progress.items_total,
          detail: `${progress.files} files, ${formatBytes(progress.bytes)}${progress.failed > 0 ? `, ${progress.failed} failed` : ""}${eta}`,
        });
      },
    });
    terminal.endProgress();
    if (dryRun) {
      terminal.line(
        `dry run: would download ${summary.planned.items} photos (${summary.planned.files} files, ` +
          `${formatBytes(summary.planned.bytes)}) to ${folder}; nothing was written`,
      );
      return EXIT.ok;
    }
    terminal.line(
      `${summary.downloaded} downloaded (${summary.files} files, ${formatBytes(summary.bytes)}), ` +
        `${summary.skipped} already there, ${summary.failed} failed, in ${folder}`,
    );
    for (const item of summary.failures.slice(0, 10))
      terminal.warn(`failed: ${item.asset.filename} (${item.asset.id})`);
    if (summary.failures.length > 10) terminal.warn(`… and ${summary.failed - 10} more; run again to retry them`);
    if (summary.stopped) {
      terminal.warn(`stopped: ${summary.stopped.message}`);
      return EXIT.failed;
    }
    return summary.failed > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    await library.close();
  }
};
