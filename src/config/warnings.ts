import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import { isLoopbackHost } from "./fields.ts";
import { formatDuration, parseSchedule, shortestGapMs } from "./schedule.ts";
import type { Config } from "./schema.ts";

/**
 * Valid but risky settings. Polling Apple too often gets Apple IDs throttled or locked, and active
 * locating wakes every device of the account and drains batteries; each service says which of its
 * schedules are risky below which gap (`scheduleChecks`).
 */

export interface ConfigWarning {
  /** Dotted key path, e.g. `accounts.0.findmy.schedule`. */
  path: string;
  message: string;
}

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
  config.accounts.forEach((account, index) => {
    for (const service of GENERIC_SERVICES) {
      const section = (account as unknown as Record<string, unknown>)[service.key];
      if (!service.enabled(section)) continue;
      for (const { key, schedule, minimumMs, risk } of service.scheduleChecks?.(section) ?? []) {
        check(`accounts.${index}.${service.key}.${key}`, schedule, minimumMs, risk);
      }
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
