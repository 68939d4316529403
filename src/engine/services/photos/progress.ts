import type { MirrorProgress } from "./mirror.ts";

/**
 * `1,234,567`: digits grouped by three, as `Intl.NumberFormat("en-US")` writes whole numbers, without
 * its cost (the first Intl formatter of a process loads about 6 MB of ICU data, resident from then on).
 */
export function groupDigits(value: number): string {
  const digits = String(Math.trunc(Math.abs(value)));
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ",");
  return value < 0 ? `-${grouped}` : grouped;
}

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
    `${groupDigits(progress.items_done)} of ${groupDigits(progress.items_total)} (${progress.percent}%)`,
    `${groupDigits(progress.files)} files`,
    formatBytes(progress.bytes),
  ];
  if (progress.failed > 0) parts.push(`${groupDigits(progress.failed)} failed`);
  if (progress.state === "running" && progress.eta_seconds !== null)
    parts.push(`about ${formatEta(progress.eta_seconds)} left`);
  return `${what}: ${parts.join(", ")}`;
}
