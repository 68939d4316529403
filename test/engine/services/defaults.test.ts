import { describe, expect, it } from "vitest";
import { AccountSchema } from "../../../src/engine/account-config.ts";

describe("defaults of the data types added after the first three", () => {
  it("calendar is on (every 15 min); contacts (daily), notes (hourly, titles only) and Safari history are off", () => {
    const account = AccountSchema.parse({ id: "jane", username: "jane@example.com" });
    expect(account.calendar).toEqual({ enabled: true, schedule: "15m", days_ahead: 7, time_zone: null, calendars: [] });
    expect(account.contacts).toEqual({ enabled: false, schedule: "1d" });
    expect(account.notes).toEqual({ enabled: false, schedule: "1h", publish_body: false });
    expect(account.safari).toEqual({ enabled: false });
  });

  it("refuses an unknown time zone and a window beyond 90 days", () => {
    const bad = AccountSchema.safeParse({
      id: "jane",
      username: "jane@example.com",
      calendar: { time_zone: "Mars/Olympus_Mons", days_ahead: 365 },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join(".")).sort()).toEqual([
      "calendar.days_ahead",
      "calendar.time_zone",
    ]);
  });
});
