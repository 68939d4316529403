import { isLoopbackHost } from "./fields.ts";
import { formatDuration, parseSchedule, shortestGapMs } from "./schedule.ts";
import type { Config } from "./schema.ts";

/**
 * Valid but risky settings. Polling Apple too often gets Apple IDs throttled or locked
 * (reports put the limit near 5 minutes for Find My and 15 minutes for photos), and active
 * locating wakes every device of the account and drains batteries.
 */

export interface ConfigWarning {
  /** Dotted key path, e.g. `accounts.0.findmy.schedule`. */
  path: string;
  message: string;
}

/** Below these gaps a schedule gets a warning. */
export const SCHEDULE_WARNING_MS = {
  findmy: 5 * 60_000,
  locate: 5 * 60_000,
  photos: 15 * 60_000,
  calls: 5 * 60_000,
} as const;

export function configWarnings(config: Config): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const check = (path: string, value: string | number, minimum: number, risk: string) => {
    const gap = shortestGapMs(parseSchedule(value));
    if (gap < minimum) {
      warnings.push({
        path,
        message: `runs every ${formatDuration(gap)}, more often than ${formatDuration(minimum)}: ${risk}`,
      });
    }
  };
  const lockRisk = "Apple may throttle or lock the Apple ID";
  config.accounts.forEach((account, index) => {
    const at = `accounts.${index}`;
    if (account.findmy.enabled) {
      check(`${at}.findmy.schedule`, account.findmy.schedule, SCHEDULE_WARNING_MS.findmy, lockRisk);
      if (account.findmy.locate !== "none") {
        check(
          `${at}.findmy.locate_schedule`,
          account.findmy.locate_schedule,
          SCHEDULE_WARNING_MS.locate,
          `${lockRisk}, and every locate wakes the devices and drains their batteries`,
        );
      }
    }
    if (account.photos.enabled)
      check(`${at}.photos.schedule`, account.photos.schedule, SCHEDULE_WARNING_MS.photos, lockRisk);
    if (account.calls.enabled && account.calls.source === "icloud") {
      check(`${at}.calls.schedule`, account.calls.schedule, SCHEDULE_WARNING_MS.calls, lockRisk);
    }
  });
  const { http, mqtt } = config;
  if (http.enabled && http.allow_unauthenticated && !isLoopbackHost(http.host)) {
    if (http.auth_token === null && http.auth_token_file === null) {
      warnings.push({
        path: "http.allow_unauthenticated",
        message: `the HTTP API on ${http.host} accepts requests without a token; keep it behind an authenticating proxy`,
      });
    }
  }
  if (!mqtt.reject_unauthorized && mqtt.url !== null) {
    warnings.push({ path: "mqtt.reject_unauthorized", message: "the broker's TLS certificate is not verified" });
  }
  return warnings;
}
