import { randomUUID } from "node:crypto";

/** ISO 8601 in UTC with `Z`, as ricloud writes datetimes. */
export function isoNow(now: number = Date.now()): string {
  return new Date(now).toISOString();
}

/** Ids of sessions, polls, tasks, results, events and subscriptions (ricloud uses UUIDs for these). */
export function newId(): string {
  return randomUUID();
}
