import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isValidTimeZone, offsetMinutes, systemTimeZone } from "../../../src/icloud/calendar/time-zone.ts";
import {
  DEFAULT_ZONE_DIR,
  etcTimezoneName,
  isZoneName,
  loadZone,
  localtimeLinkName,
  parsePosixTz,
  parseTzif,
  ruleDayStart,
} from "../../../src/icloud/calendar/tzif.ts";

const HAS_ZONEINFO = existsSync(join(DEFAULT_ZONE_DIR, "Europe/Berlin"));
const at = (iso: string) => Date.parse(iso) / 1000;
const tmp = mkdtempSync(join(tmpdir(), "tzif-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Seconds east of UTC at instant `ms` by Intl (its own copy of the time-zone data, in ICU). */
function intlOffsets(zone: string): (ms: number) => number {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return (ms) => {
    const m = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/.exec(format.format(ms));
    if (m === null) throw new Error(`unexpected Intl output for ${zone}`);
    const [, month, day, year, hour, minute, second] = m.map(Number) as number[];
    const wall = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
    return (wall - Math.floor(ms / 1000) * 1000) / 1000;
  };
}

/**
 * Seconds east of UTC by the C library reading the same zone file (GNU `date`), for the instants
 * where tzif and Intl disagree: equal here means the two databases differ, not the reading.
 */
function libcOffsets(zone: string, seconds: number[]): (number | undefined)[] {
  const run = spawnSync("date", ["-f", "-", "+%::z"], {
    input: seconds.map((s) => `@${s}`).join("\n"),
    env: { ...process.env, TZ: zone, TZDIR: DEFAULT_ZONE_DIR, LC_ALL: "C" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) return seconds.map(() => undefined);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const m = /^([+-])(\d\d):(\d\d):(\d\d)$/.exec(line);
      if (m === null) return undefined;
      const total = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
      return m[1] === "-" ? -total : total;
    });
}

describe("tzif against Intl", () => {
  it.skipIf(!HAS_ZONEINFO)(
    "every zone Intl knows that has a file: the same offset 1900–2100, and ±1 s around every change",
    () => {
      const from = Date.UTC(1900, 0, 1);
      const to = Date.UTC(2100, 0, 1);
      const step = 13 * 86_400_000 + 5 * 3_600_000 + 7_000;
      const withoutFile: string[] = [];
      const failures: string[] = [];
      let dataDifferences = 0;
      let checked = 0;
      for (const name of Intl.supportedValuesOf("timeZone")) {
        if (!existsSync(join(DEFAULT_ZONE_DIR, name))) {
          withoutFile.push(name);
          continue;
        }
        const zone = loadZone(name, DEFAULT_ZONE_DIR);
        if (zone === undefined) {
          failures.push(`${name}: not loaded`);
          continue;
        }
        const intl = intlOffsets(name);
        const differ = new Map<number, [number, number]>();
        const check = (ms: number) => {
          checked++;
          const mine = zone.offsetSeconds(ms);
          const theirs = intl(ms);
          if (mine !== theirs) differ.set(Math.floor(ms / 1000), [mine, theirs]);
        };
        const around = (ms: number) => {
          check(ms - 1000);
          check(ms);
          check(ms + 1000);
        };
        let previous = from;
        for (let ms = from; ms < to; ms += step) {
          check(ms);
          // A change between two samples (most after the data block's last one come from the TZ rule):
          // found to the second by bisection.
          if (zone.offsetSeconds(previous) !== zone.offsetSeconds(ms)) {
            let lo = previous / 1000;
            let hi = Math.floor(ms / 1000);
            while (hi - lo > 1) {
              const mid = Math.floor((lo + hi) / 2);
              if (zone.offsetSeconds(mid * 1000) === zone.offsetSeconds(previous)) lo = mid;
              else hi = mid;
            }
            around(hi * 1000);
          }
          previous = ms;
        }
        for (const t of zone.transitions) if (t * 1000 >= from && t * 1000 < to) around(t * 1000);
        if (differ.size === 0) continue;
        // Where Intl disagrees, the C library reading the same file must agree with tzif.
        const seconds = [...differ.keys()];
        const libc = libcOffsets(name, seconds);
        seconds.forEach((s, i) => {
          const [mine, theirs] = differ.get(s) ?? [0, 0];
          if (libc[i] === mine) dataDifferences++;
          else
            failures.push(`${name} ${new Date(s * 1000).toISOString()}: tzif ${mine}, Intl ${theirs}, libc ${libc[i]}`);
        });
      }
      if (dataDifferences > 0)
        console.info(
          `tzif: ${dataDifferences} of ${checked} instants differ from Intl where the system's zone files differ ` +
            `from ICU's copy (tzdata ${systemTzdataVersion()} here, ${process.versions.tz} in ICU); libc agrees with tzif on all of them`,
        );
      expect(withoutFile.length).toBeLessThan(20);
      expect(failures).toEqual([]);
    },
    180_000,
  );

  it.skipIf(!HAS_ZONEINFO)("accepts only names Intl accepts too: no zone file outside Intl's zones is taken", () => {
    const refused: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const entry of readdirSync(dir)) {
        const name = prefix + entry;
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) {
          if (isZoneName(name)) walk(path, `${name}/`);
        } else if (loadZone(name, DEFAULT_ZONE_DIR) !== undefined) {
          try {
            new Intl.DateTimeFormat("en-US", { timeZone: name });
          } catch {
            refused.push(name);
          }
        }
      }
    };
    walk(DEFAULT_ZONE_DIR, "");
    expect(refused).toEqual([]);
  });

  const zic = ["/usr/sbin/zic", "/usr/bin/zic"].find(existsSync);
  const source = join(DEFAULT_ZONE_DIR, "tzdata.zi");
  it.skipIf(zic === undefined || !existsSync(source))(
    "slim files (transitions up to the rules, then the footer) read as the fat ones",
    () => {
      const slim = join(tmp, "slim");
      const fat = join(tmp, "fat");
      for (const [dir, kind] of [
        [slim, "slim"],
        [fat, "fat"],
      ] as const) {
        const run = spawnSync(zic ?? "zic", ["-b", kind, "-d", dir, source], { encoding: "utf8" });
        expect(run.status, run.stderr).toBe(0);
      }
      const names = ["Europe/Berlin", "America/New_York", "Europe/Dublin", "America/Nuuk", "Australia/Lord_Howe"];
      names.push("Pacific/Chatham", "America/Santiago", "Asia/Jerusalem", "Africa/Casablanca", "Asia/Kathmandu");
      const wrong: string[] = [];
      for (const name of names) {
        const s = loadZone(name, slim);
        const f = loadZone(name, fat);
        expect(s?.transitions.length ?? 0).toBeLessThanOrEqual(f?.transitions.length ?? 0);
        for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86_400_000 + 3_599_000) {
          if (s?.offsetSeconds(ms) !== f?.offsetSeconds(ms) || s === undefined)
            wrong.push(`${name} ${new Date(ms).toISOString()}`);
        }
      }
      expect(wrong).toEqual([]);
    },
    60_000,
  );
});

function systemTzdataVersion(): string {
  try {
    return /^# version (\S+)/.exec(readFileSync(join(DEFAULT_ZONE_DIR, "tzdata.zi"), "utf8"))?.[1] ?? "?";
  } catch {
    return "?";
  }
}

describe("POSIX TZ strings (the footer)", () => {
  const offset = (tz: string, iso: string) => parsePosixTz(tz)?.offsetAt(at(iso));

  it("EST5EDT,M3.2.0,M11.1.0: second Sunday of March 02:00 EST to first Sunday of November 02:00 EDT", () => {
    const tz = "EST5EDT,M3.2.0,M11.1.0";
    expect(parsePosixTz(tz)).toMatchObject({
      stdName: "EST",
      stdOffset: -18_000,
      dst: { name: "EDT", offset: -14_400 },
    });
    expect(offset(tz, "2027-03-14T06:59:59Z")).toBe(-18_000);
    expect(offset(tz, "2027-03-14T07:00:00Z")).toBe(-14_400);
    expect(offset(tz, "2027-11-07T05:59:59Z")).toBe(-14_400);
    expect(offset(tz, "2027-11-07T06:00:00Z")).toBe(-18_000);
    expect(offset(tz, "2027-01-01T00:00:00Z")).toBe(-18_000);
  });

  it("<+0545>-5:45: quoted names, minutes", () => {
    expect(parsePosixTz("<+0545>-5:45")).toMatchObject({ stdName: "+0545", stdOffset: 20_700 });
    expect(parsePosixTz("<+0545>-5:45")?.dst).toBeUndefined();
    expect(offset("<+0545>-5:45", "2027-07-01T00:00:00Z")).toBe(20_700);
    expect(parsePosixTz("LMT-0:53:28")?.stdOffset).toBe(3208);
    expect(parsePosixTz("<-00>0")?.stdOffset).toBe(0);
  });

  it("IST-1GMT0,M10.5.0,M3.5.0/1 (Europe/Dublin): negative DST, winter is the 'daylight' time", () => {
    const tz = "IST-1GMT0,M10.5.0,M3.5.0/1";
    expect(offset(tz, "2027-01-15T12:00:00Z")).toBe(0);
    expect(offset(tz, "2027-03-28T00:59:59Z")).toBe(0);
    expect(offset(tz, "2027-03-28T01:00:00Z")).toBe(3600);
    expect(offset(tz, "2027-07-01T12:00:00Z")).toBe(3600);
    expect(offset(tz, "2027-10-31T00:59:59Z")).toBe(3600);
    expect(offset(tz, "2027-10-31T01:00:00Z")).toBe(0);
    expect(offset(tz, "2027-12-31T23:59:59Z")).toBe(0);
  });

  it("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1 (America/Nuuk-like): negative transition times", () => {
    const tz = "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1";
    // Saturday 22:00 -03 and Saturday 23:00 -02: both 01:00 UTC on the last Sunday.
    expect(offset(tz, "2027-03-28T00:59:59Z")).toBe(-10_800);
    expect(offset(tz, "2027-03-28T01:00:00Z")).toBe(-7200);
    expect(offset(tz, "2027-10-31T00:59:59Z")).toBe(-7200);
    expect(offset(tz, "2027-10-31T01:00:00Z")).toBe(-10_800);
  });

  it("hours past 24 (IST-2IDT,M3.4.4/26,M10.5.0: Friday 02:00 as Thursday 26:00)", () => {
    const tz = "IST-2IDT,M3.4.4/26,M10.5.0";
    expect(offset(tz, "2027-03-25T23:59:59Z")).toBe(7200);
    expect(offset(tz, "2027-03-26T00:00:00Z")).toBe(10_800);
    expect(offset(tz, "2027-10-30T22:59:59Z")).toBe(10_800);
    expect(offset(tz, "2027-10-30T23:00:00Z")).toBe(7200);
  });

  it("J and zero-based day forms; Jn never counts Feb 29, n does", () => {
    const day = (d: Parameters<typeof ruleDayStart>[0], year: number) =>
      new Date(ruleDayStart(d, year) * 1000).toISOString().slice(0, 10);
    expect(day({ kind: "julian", day: 59 }, 2028)).toBe("2028-02-28");
    expect(day({ kind: "julian", day: 60 }, 2028)).toBe("2028-03-01");
    expect(day({ kind: "julian", day: 60 }, 2027)).toBe("2027-03-01");
    expect(day({ kind: "julian", day: 365 }, 2028)).toBe("2028-12-31");
    expect(day({ kind: "zero-based", day: 59 }, 2028)).toBe("2028-02-29");
    expect(day({ kind: "zero-based", day: 59 }, 2027)).toBe("2027-03-01");
    expect(day({ kind: "zero-based", day: 365 }, 2028)).toBe("2028-12-31");
    expect(day({ kind: "month", month: 2, week: 5, weekday: 2 }, 2028)).toBe("2028-02-29");
    expect(day({ kind: "month", month: 3, week: 5, weekday: 0 }, 2027)).toBe("2027-03-28");
    // zic's "DST all year": from Jan 1 00:00 to Dec 31 25:00, the year boundary included.
    const always = "EST5EDT,0/0,J365/25";
    for (const iso of ["2027-01-01T00:00:00Z", "2027-01-01T05:00:00Z", "2027-07-01T00:00:00Z", "2027-12-31T23:59:59Z"])
      expect(offset(always, iso)).toBe(-14_400);
    const julian = "AAA0BBB,J60/0,J300/0";
    expect(offset(julian, "2028-02-29T23:59:59Z")).toBe(0);
    expect(offset(julian, "2028-03-01T00:00:00Z")).toBe(3600);
    const zeroBased = "AAA0BBB,59/0,300/0";
    expect(offset(zeroBased, "2028-02-28T23:59:59Z")).toBe(0);
    expect(offset(zeroBased, "2028-02-29T00:00:00Z")).toBe(3600);
  });

  it("refuses what it cannot read", () => {
    for (const tz of [
      "",
      "EST",
      "AB5",
      "<AB>5",
      "EST25",
      "EST5EDT",
      "EST5EDT,M3.2.0",
      "EST5EDT,M13.1.0,M11.1.0",
      "EST5EDT,M3.6.0,M11.1.0",
      "EST5EDT,M3.2.7,M11.1.0",
      "EST5EDT,J0,J365",
      "EST5EDT,366,J365",
      "EST5EDT,M3.2.0/168,M11.1.0",
      "EST5EDT,M3.2.0,M11.1.0x",
      "EST5:60",
      "<+05",
    ])
      expect(parsePosixTz(tz), tz).toBeUndefined();
  });
});

/** A TZif file: `types` are [utoff, isdst]; v2+ with a full 32-bit block and the 64-bit one. */
function tzif(o: {
  version: 1 | 2 | 3 | 4;
  times: number[];
  typeOf: number[];
  types: [number, number][];
  footer?: string;
}) {
  const block = (timeBytes: 4 | 8) => {
    const chars = [0x4c, 0x4d, 0x54, 0]; // "LMT\0"
    const size = o.times.length * (timeBytes + 1) + o.types.length * 6 + chars.length;
    const header = new DataView(new ArrayBuffer(44));
    [0x54, 0x5a, 0x69, 0x66].forEach((b, i) => {
      header.setUint8(i, b);
    });
    header.setUint8(4, o.version === 1 ? 0 : 0x30 + o.version);
    [0, 0, 0, o.times.length, o.types.length, chars.length].forEach((n, i) => {
      header.setUint32(20 + 4 * i, n);
    });
    const data = new DataView(new ArrayBuffer(size));
    let p = 0;
    for (const t of o.times) {
      if (timeBytes === 8) data.setBigInt64(p, BigInt(t));
      else data.setInt32(p, t);
      p += timeBytes;
    }
    for (const i of o.typeOf) data.setUint8(p++, i);
    for (const [utoff, isdst] of o.types) {
      data.setInt32(p, utoff);
      data.setUint8(p + 4, isdst);
      data.setUint8(p + 5, 0);
      p += 6;
    }
    for (const c of chars) data.setUint8(p++, c);
    return [new Uint8Array(header.buffer), new Uint8Array(data.buffer)];
  };
  const parts = block(4);
  if (o.version >= 2) parts.push(...block(8), new TextEncoder().encode(`\n${o.footer ?? ""}\n`));
  return Buffer.concat(parts);
}

describe("TZif files", () => {
  const berlinLike = {
    times: [at("1980-04-06T01:00:00Z"), at("1980-09-28T01:00:00Z")],
    typeOf: [1, 0],
    types: [
      [3600, 0],
      [7200, 1],
    ] as [number, number][],
  };

  it("v1: type 0 before the first transition, the last type after the last", () => {
    const zone = parseTzif(tzif({ version: 1, ...berlinLike }));
    expect(zone?.offsetSeconds(Date.parse("1970-01-01T00:00:00Z"))).toBe(3600);
    expect(zone?.offsetSeconds(Date.parse("1980-04-06T00:59:59.999Z"))).toBe(3600);
    expect(zone?.offsetSeconds(Date.parse("1980-04-06T01:00:00Z"))).toBe(7200);
    expect(zone?.offsetSeconds(Date.parse("1980-09-28T01:00:00Z"))).toBe(3600);
    expect(zone?.offsetSeconds(Date.parse("2027-07-01T00:00:00Z"))).toBe(3600);
  });

  it.each([2, 3, 4] as const)("v%i: the 64-bit block, then the footer after the last transition", (version) => {
    const zone = parseTzif(tzif({ version, ...berlinLike, footer: "CET-1CEST,M3.5.0,M10.5.0/3" }));
    expect(zone?.transitions).toEqual(berlinLike.times);
    expect(zone?.offsetSeconds(Date.parse("1980-06-01T00:00:00Z"))).toBe(7200);
    expect(zone?.offsetSeconds(Date.parse("2027-03-28T00:59:59Z"))).toBe(3600);
    expect(zone?.offsetSeconds(Date.parse("2027-07-01T00:00:00Z"))).toBe(7200);
    // An empty footer: the last type stays.
    const plain = parseTzif(tzif({ version, ...berlinLike, footer: "" }));
    expect(plain?.offsetSeconds(Date.parse("2027-07-01T00:00:00Z"))).toBe(3600);
  });

  it("no transitions: the footer for all time (slim fixed zones), else type 0", () => {
    const slim = parseTzif(tzif({ version: 2, times: [], typeOf: [], types: [[0, 0]], footer: "<+0545>-5:45" }));
    expect(slim?.offsetSeconds(Date.parse("1900-01-01T00:00:00Z"))).toBe(20_700);
    const fixed = parseTzif(tzif({ version: 2, times: [], typeOf: [], types: [[-18_000, 0]] }));
    expect(fixed?.offsetSeconds(0)).toBe(-18_000);
    const v1 = parseTzif(tzif({ version: 1, times: [], typeOf: [], types: [[19_800, 0]] }));
    expect(v1?.offsetSeconds(0)).toBe(19_800);
  });

  it("refuses malformed files", () => {
    const good = tzif({ version: 2, ...berlinLike, footer: "CET-1CEST,M3.5.0,M10.5.0/3" });
    expect(parseTzif(good)).toBeDefined();
    const bad: [string, Uint8Array][] = [
      ["empty", new Uint8Array()],
      ["garbage", new TextEncoder().encode("root:x:0:0:root:/root:/bin/bash\n".repeat(20))],
      ["truncated", good.subarray(0, good.length - 20)],
      ["header only", good.subarray(0, 44)],
      ["no footer end", good.subarray(0, good.length - 1)],
      ["bad footer", tzif({ version: 2, ...berlinLike, footer: "CET-1CEST" })],
      ["version 5", Buffer.concat([good.subarray(0, 4), Buffer.from("5"), good.subarray(5)])],
      ["type out of range", tzif({ version: 1, ...berlinLike, typeOf: [1, 2] })],
      ["times not ascending", tzif({ version: 1, ...berlinLike, times: [10, 5] })],
      ["no types", tzif({ version: 1, times: [], typeOf: [], types: [] })],
      ["offset beyond 26 h", tzif({ version: 1, times: [], typeOf: [], types: [[100_000, 0]] })],
    ];
    for (const [what, bytes] of bad) expect(parseTzif(bytes), what).toBeUndefined();
  });

  it.skipIf(!existsSync(join(DEFAULT_ZONE_DIR, "right/Europe/Berlin")))(
    "refuses leap-second files (right/), whose clock is not JavaScript's",
    () => {
      expect(parseTzif(readFileSync(join(DEFAULT_ZONE_DIR, "right/Europe/Berlin")))).toBeUndefined();
    },
  );
});

describe("zone names and the zone directory", () => {
  afterEach(() => {
    delete process.env["TZDIR"];
  });

  it("refuses names that could leave the zone directory, without opening them", () => {
    // A valid zone file where each escape would land: found only if the name were used as a path.
    const dir = join(tmp, "names", "zoneinfo");
    mkdirSync(join(dir, "Europe"), { recursive: true });
    const zoneFile = tzif({ version: 2, times: [], typeOf: [], types: [[0, 0]], footer: "<+01>-1" });
    writeFileSync(join(tmp, "names", "x"), zoneFile);
    writeFileSync(join(dir, "Europe", "Here"), zoneFile);
    expect(loadZone("Europe/Here", dir)?.offsetSeconds(0)).toBe(3600);
    for (const name of [
      "../x",
      "Europe/../../x",
      "../../etc/passwd",
      "/etc/passwd",
      "Europe/./Here",
      "./Europe/Here",
      "Europe//Here",
      "Europe/Here/",
      "Europe\\Here",
      "Europe/Here\0",
      "",
      "A".repeat(5000),
      "posix/Europe/Berlin",
      "right/Europe/Berlin",
      "posixrules",
      "localtime",
      "Factory",
    ]) {
      expect(isZoneName(name), name).toBe(false);
      expect(loadZone(name, dir), name).toBeUndefined();
    }
    expect(isZoneName("Etc/GMT+5")).toBe(true);
    expect(isZoneName("America/Argentina/Buenos_Aires")).toBe(true);
  });

  it("a truncated or garbage zone file gives no zone, and Intl still answers", () => {
    const dir = join(tmp, "broken");
    mkdirSync(join(dir, "Europe"), { recursive: true });
    mkdirSync(join(dir, "America", "New_York"), { recursive: true });
    const berlin = HAS_ZONEINFO
      ? readFileSync(join(DEFAULT_ZONE_DIR, "Europe/Berlin"))
      : tzif({ version: 2, ...{ times: [], typeOf: [], types: [[3600, 0]] }, footer: "CET-1CEST,M3.5.0,M10.5.0/3" });
    writeFileSync(join(dir, "Europe", "Berlin"), berlin.subarray(0, 200));
    writeFileSync(join(dir, "Europe", "Paris"), "not a zone file at all");
    writeFileSync(join(dir, "Europe", "Big"), Buffer.concat([berlin, Buffer.alloc(300 * 1024)]));
    expect(loadZone("Europe/Berlin", dir)).toBeUndefined();
    expect(loadZone("Europe/Paris", dir)).toBeUndefined();
    expect(loadZone("Europe/Big", dir)).toBeUndefined();
    expect(loadZone("America/New_York", dir)).toBeUndefined(); // a directory
    expect(loadZone("Europe/Missing", dir)).toBeUndefined();
    if (spawnSync("mkfifo", [join(dir, "Europe", "Fifo")]).status === 0)
      expect(loadZone("Europe/Fifo", dir)).toBeUndefined();

    process.env["TZDIR"] = dir;
    expect(offsetMinutes(Date.parse("2027-01-15T12:00:00Z"), "Europe/Berlin")).toBe(60);
    expect(offsetMinutes(Date.parse("2027-07-15T12:00:00Z"), "Europe/Paris")).toBe(120);
    expect(offsetMinutes(Date.parse("2027-07-15T12:00:00Z"), "America/New_York")).toBe(-240);
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Europe/Nowhere")).toBe(false);
  });

  it.skipIf(!HAS_ZONEINFO)("validity: a zone file, a name Intl lists, or one Intl accepts", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("US/Eastern")).toBe(true);
    expect(isValidTimeZone("europe/berlin")).toBe(true); // Intl, case-insensitively
    expect(isValidTimeZone("Europe/Nowhere")).toBe(false);
    expect(isValidTimeZone("posix/Europe/Berlin")).toBe(false);
    expect(isValidTimeZone("../../etc/passwd")).toBe(false);
    expect(() => offsetMinutes(Number.NaN, "Europe/Berlin")).toThrow(RangeError);
  });
});

describe("systemTimeZone", () => {
  const saved = process.env["TZ"];
  afterEach(() => {
    if (saved === undefined) delete process.env["TZ"];
    else process.env["TZ"] = saved;
  });
  const withTz = (tz: string | undefined) => {
    if (tz === undefined) delete process.env["TZ"];
    else process.env["TZ"] = tz;
    return systemTimeZone();
  };

  it.skipIf(!HAS_ZONEINFO)("TZ as a name or :name, as Intl reads it", () => {
    for (const [tz, zone] of [
      ["Europe/Paris", "Europe/Paris"],
      [":Europe/Paris", "Europe/Paris"],
      ["America/New_York", "America/New_York"],
      ["Etc/UTC", "UTC"],
    ]) {
      expect(withTz(tz), tz).toBe(zone);
      // Node re-reads TZ when it is set: Intl sees the same zone.
      expect(Intl.DateTimeFormat().resolvedOptions().timeZone, tz).toBe(zone);
    }
  });

  it("passes over a TZ that is no zone name (unknown, a path, a POSIX rule, empty)", () => {
    const machine = withTz(undefined);
    expect(isValidTimeZone(machine)).toBe(true);
    for (const tz of [
      "Europe/Nowhere",
      ":/etc/localtime",
      "/usr/share/zoneinfo/Europe/Paris",
      "EST5EDT,M3.2.0,M11.1.0",
      "",
    ])
      expect(withTz(tz), tz).toBe(machine);
  });

  it("reads the /etc/localtime link and /etc/timezone", () => {
    const dir = join(tmp, "etc");
    mkdirSync(dir, { recursive: true });
    symlinkSync("../usr/share/zoneinfo/Europe/Berlin", join(dir, "localtime"));
    symlinkSync("/usr/share/zoneinfo/posix/Asia/Tokyo", join(dir, "posix-localtime"));
    symlinkSync("/somewhere/else", join(dir, "odd-localtime"));
    writeFileSync(join(dir, "copied-localtime"), "TZif");
    writeFileSync(join(dir, "timezone"), "America/New_York\nmore\n");
    writeFileSync(join(dir, "empty-timezone"), "\n");
    expect(localtimeLinkName(join(dir, "localtime"))).toBe("Europe/Berlin");
    expect(localtimeLinkName(join(dir, "posix-localtime"))).toBe("Asia/Tokyo");
    expect(localtimeLinkName(join(dir, "odd-localtime"))).toBeUndefined();
    expect(localtimeLinkName(join(dir, "copied-localtime"))).toBeUndefined();
    expect(localtimeLinkName(join(dir, "missing"))).toBeUndefined();
    expect(etcTimezoneName(join(dir, "timezone"))).toBe("America/New_York");
    expect(etcTimezoneName(join(dir, "empty-timezone"))).toBeUndefined();
    expect(etcTimezoneName(join(dir, "missing"))).toBeUndefined();
  });
});

describe("no Intl.DateTimeFormat when the zone files answer", () => {
  // A child process whose Intl.DateTimeFormat throws: the calls must still work.
  const script = `
    Intl.DateTimeFormat = function () { throw new Error("Intl.DateTimeFormat was constructed"); };
    const t = await import(${JSON.stringify(new URL("../../../src/icloud/calendar/time-zone.ts", import.meta.url).href)});
    const start = t.startOfDay("2027-03-28", "Europe/Berlin");
    console.log(JSON.stringify([
      t.offsetMinutes(Date.parse("2027-07-01T00:00:00Z"), "Europe/Berlin"),
      t.isValidTimeZone("America/New_York"),
      t.systemTimeZone(),
      t.isoInZone(start, "Europe/Berlin"),
    ]));`;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, ...env },
      encoding: "utf8",
    });

  it.skipIf(!HAS_ZONEINFO)("offsetMinutes, isValidTimeZone, systemTimeZone and the rest run without one", () => {
    const child = run({ TZ: "Europe/Paris" });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual([120, true, "Europe/Paris", "2027-03-28T00:00:00+01:00"]);
  });

  it("without the zone files, the same calls do reach Intl (the check above checks something)", () => {
    const child = run({ TZ: "Europe/Paris", TZDIR: join(tmp, "no-such-dir") });
    expect(child.status).not.toBe(0);
    expect(child.stderr).toContain("Intl.DateTimeFormat was constructed");
  });
});
