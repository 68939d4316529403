/**
 * UTC offsets read from the system's time-zone database (compiled TZif files, RFC 8536) instead of
 * `Intl`: the first `Intl.DateTimeFormat` of a process makes Node load several MB of ICU data that
 * stay resident for the life of the process, while one zone file is a few kB.
 *
 * Written from RFC 8536 (TZif versions 1–4) and POSIX (the TZ string of the footer, with RFC 8536's
 * extensions: hours of transition times from -167 to 167). Nothing here throws: a name that is not a
 * plain zone name, a missing, too big or malformed file, or one with leap seconds, gives `undefined`.
 */

import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";

/** A time zone's UTC offsets over time. */
export interface Zone {
  /** Seconds east of UTC in force at instant `ms` (+3600 for Berlin in winter). */
  offsetSeconds(ms: number): number;
  /** The instants (seconds since 1970) the data block lists a change at; later ones come from the TZ rule. */
  readonly transitions: readonly number[];
}

export const DEFAULT_ZONE_DIR = "/usr/share/zoneinfo";
/** Zone files are a few kB (the biggest fat ones ~4 kB); anything much bigger is not one. */
const MAX_FILE_BYTES = 256 * 1024;
const MAX_NAME_LENGTH = 200;
const MAX_CACHED_ZONES = 64;
const NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;
/** Files and trees of the zoneinfo directory that are not zones of their own (and `Intl` refuses). */
const NOT_ZONES = new Set(["posix", "right", "posixrules", "localtime", "Factory"]);

/** The zoneinfo directory: `TZDIR` when set, else /usr/share/zoneinfo. */
export function zoneDir(): string {
  const dir = process.env["TZDIR"];
  return dir !== undefined && dir !== "" ? dir : DEFAULT_ZONE_DIR;
}

/** True for a plain zone name (`Europe/Berlin`, `Etc/GMT+5`): nothing that could leave the zone directory. */
export function isZoneName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name)) return false;
  return !NOT_ZONES.has(name.split("/", 1)[0] ?? "");
}

/** Loaded zones (and failures, as null) per directory, the oldest dropped first beyond MAX_CACHED_ZONES. */
const zones = new Map<string, Zone | null>();
let last: { dir: string; name: string; zone: Zone | undefined } | undefined;

/** The zone `name` from the zoneinfo directory `dir`, or `undefined` (cached, failures too). */
export function loadZone(name: string, dir: string = zoneDir()): Zone | undefined {
  // Callers ask for one zone many times in a row: that one without building a key.
  if (last !== undefined && last.name === name && last.dir === dir) return last.zone;
  if (!isZoneName(name)) return undefined;
  const key = `${dir}\0${name}`;
  let zone: Zone | null | undefined = zones.get(key);
  if (zone === undefined) {
    const bytes = readSmallFile(join(dir, name));
    zone = (bytes === undefined ? undefined : parseTzif(bytes)) ?? null;
    if (zones.size >= MAX_CACHED_ZONES) {
      const oldest = zones.keys().next();
      if (oldest.done !== true) zones.delete(oldest.value);
    }
    zones.set(key, zone);
  }
  last = { dir, name, zone: zone ?? undefined };
  return last.zone;
}

/** A regular file's bytes, when it is at most MAX_FILE_BYTES long. */
function readSmallFile(path: string): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    // Non-blocking, so that a FIFO planted in the directory cannot hang the open; it fails the isFile test.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return undefined;
    // One byte more than the size, to notice a file that grew while being read.
    const buffer = new Uint8Array(stat.size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > stat.size) return undefined;
    }
    return buffer.subarray(0, length);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
  }
}

/** The name the `/etc/localtime` symlink points to (the part after `zoneinfo/`), if it is one. */
export function localtimeLinkName(link = "/etc/localtime"): string | undefined {
  try {
    const target = readlinkSync(link);
    const at = target.lastIndexOf("zoneinfo/");
    return at < 0 ? undefined : withoutTree(target.slice(at + "zoneinfo/".length));
  } catch {
    return undefined;
  }
}

/** The first line of `/etc/timezone` (Debian's record of the zone), if any. */
export function etcTimezoneName(file = "/etc/timezone"): string | undefined {
  try {
    const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      const buffer = new Uint8Array(512);
      const n = readSync(fd, buffer, 0, buffer.length, null);
      const line = new TextDecoder().decode(buffer.subarray(0, n)).split("\n", 1)[0]?.trim();
      return line ? line : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** `posix/Europe/Berlin` → `Europe/Berlin` (the trees ICU also looks through); `right/…` has leap seconds. */
const withoutTree = (name: string) => (name.startsWith("posix/") ? name.slice("posix/".length) : name);

// ---------------------------------------------------------------------------------------------------
// TZif (RFC 8536)

const HEADER_BYTES = 44;
/** RFC 8536: UT offsets SHOULD lie in [-89999, 93599] (about -25 h to +26 h). */
const MIN_OFFSET = -89_999;
const MAX_OFFSET = 93_599;

interface Counts {
  version: number;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

function header(view: DataView, at: number): Counts | undefined {
  if (at + HEADER_BYTES > view.byteLength) return undefined;
  // "TZif"
  if (view.getUint32(at) !== 0x545a6966) return undefined;
  const v = view.getUint8(at + 4);
  const version = v === 0 ? 1 : v >= 0x32 && v <= 0x34 ? v - 0x30 : 0;
  if (version === 0) return undefined;
  const count = (i: number) => view.getUint32(at + 20 + 4 * i);
  const counts = {
    version,
    isutcnt: count(0),
    isstdcnt: count(1),
    leapcnt: count(2),
    timecnt: count(3),
    typecnt: count(4),
    charcnt: count(5),
  };
  if (counts.typecnt === 0 || counts.charcnt === 0) return undefined;
  if (counts.isutcnt !== 0 && counts.isutcnt !== counts.typecnt) return undefined;
  if (counts.isstdcnt !== 0 && counts.isstdcnt !== counts.typecnt) return undefined;
  return counts;
}

const blockBytes = (c: Counts, timeBytes: number) =>
  c.timecnt * (timeBytes + 1) + c.typecnt * 6 + c.charcnt + c.leapcnt * (timeBytes + 4) + c.isstdcnt + c.isutcnt;

/** A zone from the bytes of a TZif file, or `undefined` when they are not a well-formed one. */
export function parseTzif(bytes: Uint8Array): Zone | undefined {
  try {
    return parse(bytes);
  } catch {
    return undefined;
  }
}

function parse(bytes: Uint8Array): Zone | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = header(view, 0);
  if (first === undefined) return undefined;
  let counts = first;
  let at = HEADER_BYTES;
  let timeBytes = 4;
  if (first.version >= 2) {
    // Version 2+: skip the 32-bit block, the 64-bit one after its own header is the one to use.
    at += blockBytes(first, 4);
    const second = header(view, at);
    if (second === undefined || second.version !== first.version) return undefined;
    counts = second;
    at += HEADER_BYTES;
    timeBytes = 8;
  }
  const end = at + blockBytes(counts, timeBytes);
  if (end > bytes.byteLength) return undefined;
  // Leap-second files (the right/ tree) count seconds differently from JavaScript's clock.
  if (counts.leapcnt !== 0) return undefined;

  const transitions: number[] = [];
  for (let i = 0; i < counts.timecnt; i++, at += timeBytes) {
    const t = timeBytes === 8 ? Number(view.getBigInt64(at)) : view.getInt32(at);
    const previous = transitions[transitions.length - 1];
    if (previous !== undefined && t <= previous) return undefined;
    transitions.push(t);
  }
  const typeOf = new Uint8Array(counts.timecnt);
  for (let i = 0; i < counts.timecnt; i++, at++) {
    const type = view.getUint8(at);
    if (type >= counts.typecnt) return undefined;
    typeOf[i] = type;
  }
  const offsets: number[] = [];
  for (let i = 0; i < counts.typecnt; i++, at += 6) {
    const utoff = view.getInt32(at);
    const isdst = view.getUint8(at + 4);
    const desigidx = view.getUint8(at + 5);
    if (utoff < MIN_OFFSET || utoff > MAX_OFFSET || isdst > 1 || desigidx >= counts.charcnt) return undefined;
    offsets.push(utoff);
  }

  let rule: PosixTz | undefined;
  if (counts.version >= 2) {
    // Footer: "\n" TZ-string "\n".
    if (end >= bytes.byteLength || bytes[end] !== 0x0a) return undefined;
    const close = bytes.indexOf(0x0a, end + 1);
    if (close < 0) return undefined;
    const text = bytes.subarray(end + 1, close);
    if (text.some((b) => b < 0x20 || b > 0x7e)) return undefined;
    const tz = String.fromCharCode(...text);
    if (tz !== "") {
      rule = parsePosixTz(tz);
      if (rule === undefined) return undefined;
    }
  }
  return new TzifZone(transitions, typeOf, offsets, rule);
}

class TzifZone implements Zone {
  readonly transitions: readonly number[];
  readonly #types: Uint8Array;
  readonly #offsets: readonly number[];
  readonly #rule: PosixTz | undefined;

  constructor(transitions: number[], types: Uint8Array, offsets: number[], rule: PosixTz | undefined) {
    this.transitions = transitions;
    this.#types = types;
    this.#offsets = offsets;
    this.#rule = rule;
  }

  offsetSeconds(ms: number): number {
    const t = Math.floor(ms / 1000);
    const times = this.transitions;
    const n = times.length;
    const first = this.#offsets[0] ?? 0;
    // No transitions: the TZ string if there is one, else type 0.
    if (n === 0) return this.#rule !== undefined ? this.#rule.offsetAt(t) : first;
    // Before the first transition: type 0 (RFC 8536 §3.2).
    if (!(t >= (times[0] ?? 0))) return first;
    // After the last: the TZ string (slim files rely on it), else the last transition's type.
    if (t > (times[n - 1] ?? 0) && this.#rule !== undefined) return this.#rule.offsetAt(t);
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((times[mid] ?? 0) <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.#offsets[this.#types[lo] ?? 0] ?? first;
  }
}

// ---------------------------------------------------------------------------------------------------
// POSIX TZ strings (the TZif footer): std offset [dst [offset] [,start[/time],end[/time]]]

/** The day of a rule: `Jn` (1–365, no Feb 29), `n` (0–365, Feb 29 counted) or `Mm.w.d`. */
export type RuleDay =
  | { kind: "julian"; day: number }
  | { kind: "zero-based"; day: number }
  | { kind: "month"; month: number; week: number; weekday: number };

export interface RuleChange {
  day: RuleDay;
  /** Seconds after local midnight (of the time in force before the change); -167 h to 167 h. */
  time: number;
}

/** A parsed POSIX TZ string. Offsets are seconds east of UTC (the string itself counts west). */
export interface PosixTz {
  stdName: string;
  stdOffset: number;
  dst?: { name: string; offset: number; start: RuleChange; end: RuleChange };
  /** Seconds east of UTC at `t` seconds since 1970. */
  offsetAt(t: number): number;
}

/** A POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`), or `undefined` when it is not one this reads. */
export function parsePosixTz(text: string): PosixTz | undefined {
  const p = { s: text, i: 0 };
  const stdName = zoneAbbreviation(p);
  if (stdName === undefined) return undefined;
  const west = clock(p, 24);
  if (west === undefined) return undefined;
  const stdOffset = 0 - west; // not -0
  if (p.i === text.length) return fixed(stdName, stdOffset);
  const dstName = zoneAbbreviation(p);
  if (dstName === undefined) return undefined;
  let dstOffset = stdOffset + 3600;
  if (p.i < text.length && text[p.i] !== ",") {
    const dstWest = clock(p, 24);
    if (dstWest === undefined) return undefined;
    dstOffset = 0 - dstWest;
  }
  // A DST name without rules leaves the dates to the implementation: not something to guess.
  if (text[p.i] !== ",") return undefined;
  p.i++;
  const start = change(p);
  if (start === undefined || text[p.i] !== ",") return undefined;
  p.i++;
  const end = change(p);
  if (end === undefined || p.i !== text.length) return undefined;
  return withDst(stdName, stdOffset, { name: dstName, offset: dstOffset, start, end });
}

interface Cursor {
  s: string;
  i: number;
}

/** `CET`, or `<+0545>` / `<-03>` (the brackets not part of the name); at least 3 characters. */
function zoneAbbreviation(p: Cursor): string | undefined {
  if (p.s[p.i] === "<") {
    const close = p.s.indexOf(">", p.i + 1);
    if (close < 0) return undefined;
    const name = p.s.slice(p.i + 1, close);
    if (!/^[A-Za-z0-9+-]{3,}$/.test(name)) return undefined;
    p.i = close + 1;
    return name;
  }
  const match = /^[A-Za-z]{3,}/.exec(p.s.slice(p.i));
  if (match === null) return undefined;
  p.i += match[0].length;
  return match[0];
}

/** `[+-]hh[:mm[:ss]]` in seconds, hours at most `maxHours`. */
function clock(p: Cursor, maxHours: number): number | undefined {
  const match = /^([+-]?)(\d{1,3})(?::(\d{2})(?::(\d{2}))?)?/.exec(p.s.slice(p.i));
  if (match === null) return undefined;
  const hours = Number(match[2]);
  const minutes = match[3] === undefined ? 0 : Number(match[3]);
  const seconds = match[4] === undefined ? 0 : Number(match[4]);
  if (hours > maxHours || minutes > 59 || seconds > 59) return undefined;
  p.i += match[0].length;
  const total = hours * 3600 + minutes * 60 + seconds;
  return match[1] === "-" ? -total : total;
}

/** `date[/time]`; the time defaults to 02:00:00. */
function change(p: Cursor): RuleChange | undefined {
  const day = ruleDay(p);
  if (day === undefined) return undefined;
  if (p.s[p.i] !== "/") return { day, time: 7200 };
  p.i++;
  const time = clock(p, 167);
  return time === undefined ? undefined : { day, time };
}

function ruleDay(p: Cursor): RuleDay | undefined {
  const rest = p.s.slice(p.i);
  let match = /^J(\d{1,3})/.exec(rest);
  if (match !== null) {
    const day = Number(match[1]);
    if (day < 1 || day > 365) return undefined;
    p.i += match[0].length;
    return { kind: "julian", day };
  }
  match = /^M(\d{1,2})\.(\d)\.(\d)/.exec(rest);
  if (match !== null) {
    const [month, week, weekday] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) return undefined;
    p.i += match[0].length;
    return { kind: "month", month, week, weekday };
  }
  match = /^(\d{1,3})/.exec(rest);
  if (match !== null) {
    const day = Number(match[1]);
    if (day > 365) return undefined;
    p.i += match[0].length;
    return { kind: "zero-based", day };
  }
  return undefined;
}

function fixed(stdName: string, stdOffset: number): PosixTz {
  return { stdName, stdOffset, offsetAt: () => stdOffset };
}

const DAY = 86_400;
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** Seconds since 1970 of 00:00 UTC on `day` (1-based) of `month` (1-based) of `year`. */
const utcDay = (year: number, month: number, day: number) => Date.UTC(year, month - 1, day) / 1000;

/** Seconds since 1970 of 00:00 (as a UTC clock) on the rule's day in `year`. */
export function ruleDayStart(day: RuleDay, year: number): number {
  switch (day.kind) {
    case "julian":
      // Feb 29 is never counted: J60 is March 1st in every year.
      return utcDay(year, 1, 1) + (day.day - 1 + (isLeap(year) && day.day >= 60 ? 1 : 0)) * DAY;
    case "zero-based":
      return utcDay(year, 1, 1) + day.day * DAY;
    case "month": {
      const first = new Date(utcDay(year, day.month, 1) * 1000).getUTCDay();
      let date = 1 + ((day.weekday - first + 7) % 7) + (day.week - 1) * 7;
      const length = new Date(Date.UTC(year, day.month, 0)).getUTCDate();
      while (date > length) date -= 7;
      return utcDay(year, day.month, date);
    }
  }
}

function withDst(stdName: string, stdOffset: number, dst: NonNullable<PosixTz["dst"]>): PosixTz {
  /** The year's two changes as [instant, offset after]; the start is in standard time, the end in daylight time. */
  const changesOf = (year: number): [number, number][] => [
    [ruleDayStart(dst.start.day, year) + dst.start.time - stdOffset, dst.offset],
    [ruleDayStart(dst.end.day, year) + dst.end.time - dst.offset, stdOffset],
  ];
  /** Per UTC year: the changes of the two years before to the one after, in order (memoised, a few years). */
  const windows = new Map<number, [number, number][]>();
  const windowOf = (year: number): [number, number][] => {
    let changes = windows.get(year);
    if (changes === undefined) {
      // Rule days may spill a week into the next or last year (hours from -167 to 167), so the
      // changes of two years back are before any instant of `year`. A stable sort keeps a year's
      // end before the next year's start when both fall on the same instant (DST all year).
      changes = [year - 2, year - 1, year, year + 1].flatMap(changesOf).sort((a, b) => a[0] - b[0]);
      if (windows.size >= 16) windows.clear();
      windows.set(year, changes);
    }
    return changes;
  };
  return {
    stdName,
    stdOffset,
    dst,
    offsetAt(t: number): number {
      const year = new Date(t * 1000).getUTCFullYear();
      if (Number.isNaN(year)) return stdOffset;
      let offset = stdOffset;
      for (const [at, after] of windowOf(year)) {
        if (at > t) break;
        offset = after;
      }
      return offset;
    },
  };
}
