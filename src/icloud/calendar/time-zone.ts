/**
 * Wall-clock times in IANA time zones (pure maths, shared with the simulator's calendar): which
 * instant 09:00 in Europe/Berlin is on a given day, across DST changes.
 *
 * Offsets come from the system's zone files (`tzif.ts`) when they have the zone, else from `Intl`.
 * The first `Intl.DateTimeFormat` of a process makes Node load ~6 MB of ICU data that then stay
 * resident, so none is created unless a zone is missing from the system's database.
 */

import { etcTimezoneName, isZoneName, loadZone, localtimeLinkName } from "./tzif.ts";

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

let intlZones: Set<string> | undefined;
/** The zones `Intl` lists (cheap: unlike a DateTimeFormat it loads no locale data). */
function listedByIntl(timeZone: string): boolean {
  intlZones ??= new Set(Intl.supportedValuesOf("timeZone"));
  return intlZones.has(timeZone);
}

export function isValidTimeZone(timeZone: string): boolean {
  if (loadZone(timeZone) !== undefined || listedByIntl(timeZone)) return true;
  // Names only Intl knows (other spellings such as `europe/berlin`, offsets such as `+01:00`).
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The names V8 reports as `UTC` (the zone files are all the same zero offset). */
const UTC_ALIASES = new Set(
  ["UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu"].flatMap((n) => [n, `Etc/${n}`]),
);

/**
 * This machine's time zone, e.g. `Europe/Berlin`: `TZ` (`Europe/Berlin` or `:Europe/Berlin`), else
 * the zone `/etc/localtime` links to, else `/etc/timezone`, each only when it is a zone this machine
 * knows; else what Intl says; else `UTC`. A `TZ` that is a path or a POSIX rule is passed over.
 */
export function systemTimeZone(): string {
  const tz = process.env["TZ"];
  const candidates = [tz?.startsWith(":") ? tz.slice(1) : tz, localtimeLinkName(), etcTimezoneName()];
  for (const name of candidates) {
    // Known without Intl: a zone file, or a name Intl lists (when the machine has no zone files).
    if (name !== undefined && isZoneName(name) && (loadZone(name) !== undefined || listedByIntl(name)))
      return UTC_ALIASES.has(name) ? "UTC" : name;
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The wall-clock time of instant `ms` in `timeZone`, read from Intl (slow; see `wallTime`). */
function intlWallTime(ms: number, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts["year"] ?? 1970,
    month: parts["month"] ?? 1,
    day: parts["day"] ?? 1,
    hour: (parts["hour"] ?? 0) % 24,
    minute: parts["minute"] ?? 0,
    second: parts["second"] ?? 0,
  };
}

const asUtc = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

function intlOffset(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((asUtc(intlWallTime(whole, timeZone)) - whole) / 60_000);
}

/** Intl is slow, so its offsets are asked for per quarter hour (zone changes happen on those in current rules). */
const BUCKET_MS = 15 * 60_000;
const MAX_CACHED = 20_000;
const offsets = new Map<string, number>();

function cachedIntlOffset(ms: number, timeZone: string): number {
  const bucket = Math.floor(ms / BUCKET_MS);
  const key = `${timeZone}|${bucket}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const start = intlOffset(bucket * BUCKET_MS, timeZone);
  // A change inside the quarter hour (not in current rules, but in old ones): no caching, the exact answer.
  if (intlOffset(bucket * BUCKET_MS + BUCKET_MS - 1000, timeZone) !== start) return intlOffset(ms, timeZone);
  if (offsets.size >= MAX_CACHED) offsets.clear();
  offsets.set(key, start);
  return start;
}

/** Minutes `timeZone` is ahead of UTC at instant `ms` (+60 for Berlin in winter). */
export function offsetMinutes(ms: number, timeZone: string): number {
  const zone = loadZone(timeZone);
  if (zone === undefined) return cachedIntlOffset(ms, timeZone);
  // As the Intl path: an instant outside Date's range is an error, not an offset.
  if (!(Math.abs(ms) <= 8.64e15)) throw new RangeError("Invalid time value");
  // Rounded as the Intl path rounds (old local mean times have seconds).
  return Math.round(zone.offsetSeconds(ms) / 60);
}

/** The wall-clock time of instant `ms` in `timeZone`. */
export function wallTime(ms: number, timeZone: string): WallTime {
  const shifted = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes(ms, timeZone) * 60_000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
  };
}

/**
 * The instant a wall-clock time in `timeZone` stands for. A time that does not exist (skipped by a
 * spring-forward change) moves forward by the change; an ambiguous one (fall back) is the earlier.
 */
export function wallToUtc(wall: WallTime, timeZone: string): number {
  const guess = asUtc(wall);
  // The offsets half a day before and after: equal except around a change.
  const before = guess - offsetMinutes(guess - 43_200_000, timeZone) * 60_000;
  const after = guess - offsetMinutes(guess + 43_200_000, timeZone) * 60_000;
  const shows = (ms: number) => asUtc(wallTime(ms, timeZone)) === guess;
  const fits = [before, after].filter(shows);
  // Repeated (fall back): the earlier; skipped (spring forward): the old offset, which lands after the gap.
  return fits.length > 0 ? Math.min(...fits) : before;
}

const two = (n: number) => String(n).padStart(2, "0");

export function isoDateOf(w: Pick<WallTime, "year" | "month" | "day">): string {
  return `${String(w.year).padStart(4, "0")}-${two(w.month)}-${two(w.day)}`;
}

/** `2027-03-29T09:00:00+02:00`: the instant as wall time in `timeZone`, with its offset. */
export function isoInZone(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  const offset = offsetMinutes(ms, timeZone);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${isoDateOf(w)}T${two(w.hour)}:${two(w.minute)}:${two(w.second)}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** The date `days` after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  const [y = 1970, m = 1, d = 1] = date.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return isoDateOf({ year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() });
}

/** The instant a day (`YYYY-MM-DD`) starts in `timeZone`. */
export function startOfDay(date: string, timeZone: string): number {
  const [year = 1970, month = 1, day = 1] = date.split("-").map(Number);
  return wallToUtc({ year, month, day, hour: 0, minute: 0, second: 0 }, timeZone);
}
