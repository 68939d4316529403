import { describe, expect, it } from "vitest";
import { isoInZone, offsetMinutes, wallTime, wallToUtc } from "../../../src/icloud/calendar/time-zone.ts";

/** The cached offsets agree with Intl everywhere, including zones with half- and quarter-hour rules. */

const ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "UTC"];

const formats = new Map<string, Intl.DateTimeFormat>();
function intl(ms: number, timeZone: string): string {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("sv-SE", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formats.set(timeZone, format);
  }
  return format.format(new Date(ms));
}

const show = (ms: number, timeZone: string) => {
  const w = wallTime(ms, timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
};

describe("time zones", () => {
  it.each(ZONES)("%s: wall times agree with Intl all year, and minute by minute around its changes", (zone) => {
    const start = Date.parse("2027-01-01T00:00:00Z");
    const wrong: string[] = [];
    const check = (ms: number) => {
      if (show(ms, zone) !== intl(ms, zone)) wrong.push(new Date(ms).toISOString());
    };
    for (let ms = start; ms < start + 366 * 86_400_000; ms += 53 * 60_000 + 7_000) check(ms);
    // Around every change of offset: each minute of the hours before and after.
    for (let ms = start; ms < start + 366 * 86_400_000; ms += 3_600_000) {
      if (offsetMinutes(ms, zone) === offsetMinutes(ms + 3_600_000, zone)) continue;
      for (let m = ms - 3_600_000; m < ms + 3 * 3_600_000; m += 61_000) check(m);
    }
    expect(wrong).toEqual([]);
  });

  it("turns wall times into instants across DST: skipped times move on, repeated ones take the earlier", () => {
    const at = (month: number, day: number, hour: number, minute = 0) =>
      new Date(wallToUtc({ year: 2027, month, day, hour, minute, second: 0 }, "Europe/Berlin")).toISOString();
    expect(at(3, 28, 1)).toBe("2027-03-28T00:00:00.000Z");
    expect(at(3, 28, 2, 30)).toBe("2027-03-28T01:30:00.000Z");
    expect(at(3, 28, 3)).toBe("2027-03-28T01:00:00.000Z");
    expect(at(10, 31, 2, 30)).toBe("2027-10-31T00:30:00.000Z");
    expect(offsetMinutes(Date.parse("2027-07-01T00:00:00Z"), "Asia/Kathmandu")).toBe(345);
    expect(isoInZone(Date.parse("2027-03-29T07:00:00Z"), "Europe/Berlin")).toBe("2027-03-29T09:00:00+02:00");
    expect(isoInZone(Date.parse("2027-03-29T07:00:00Z"), "America/St_Johns")).toBe("2027-03-29T04:30:00-02:30");
  });
});
