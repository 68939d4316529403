import type { MirrorProgress } from "./mirror.ts";

const number = new Intl.NumberFormat("en-US");

/** `1.2 GB`, `340 MB`, `12 kB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}

/** `45 s`, `12 min`, `3 h 20 min`. */
export function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/**
 * The account state's `progressMsg` during a library download, e.g.
 * `Downloading the photo library: 1,234 of 10,000 (12.3%), 56 files, 1.2 GB, about 5 min left`.
 */
export function progressMessage(progress: MirrorProgress, verify = false): string {
  const what = verify ? "Checking the photo library" : "Downloading the photo library";
  const parts = [
    `${number.format(progress.items_done)} of ${number.format(progress.items_total)} (${progress.percent}%)`,
    `${number.format(progress.files)} files`,
    formatBytes(progress.bytes),
  ];
  if (progress.failed > 0) parts.push(`${number.format(progress.failed)} failed`);
  if (progress.state === "running" && progress.eta_seconds !== null)
    parts.push(`about ${formatEta(progress.eta_seconds)} left`);
  return `${what}: ${parts.join(", ")}`;
}
