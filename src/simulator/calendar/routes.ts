/**
 * The simulator's iCloud Calendar web service (the `calendar` webservice of accountLogin), as the
 * public clients read it (timlaing/pyicloud `pyicloud/services/calendar.py`):
 *
 *   GET {origin}/ca/startup?lang&usertz&startDate&endDate        → {Collection: [calendar…], Event: […]}
 *   GET {origin}/ca/allcollections?lang&usertz&startDate&endDate → {Collection: [calendar…]} (pyicloud HEAD)
 *   GET {origin}/ca/events?lang&usertz&startDate&endDate         → {Event: [occurrence…], Recurrence: […]}
 *
 * Dates are `YYYY-MM-DD`, both inclusive, in `usertz`; events carry Apple's date arrays
 * `[YYYYMMDD, year, month, day, hour, minute, minutes]`: `startDate`/`endDate` in `usertz`,
 * `localStartDate`/`localEndDate` in the event's own `tz`. Recurring events come expanded, one entry
 * per occurrence (`<guid>*<local start>`). Each calendar's `ctag` changes with any change to it.
 * Statuses and the expansion's ids are the simulator's own choices (README.md next to this file).
 */
import { isValidTimeZone, type WallTime, wallTime } from "../../icloud/calendar/time-zone.ts";
import type { ServiceRoutesFactory, SimServiceAccount, SimServiceContext } from "../context.ts";
import type { Route, SimRequest, SimResponse } from "../router.ts";
import { CalendarWorld, type Occurrence } from "./calendar-world.ts";
import { parseCalendarScenario, type ScenarioEventInput, ScenarioEventSchema } from "./scenario.ts";

/** What a test can do to one account's simulated calendars. */
export interface CalendarProbe {
  readonly world: CalendarWorld;
  /** Adds an event now; returns its guid. */
  add(event: ScenarioEventInput): string;
  change(guid: string, patch: { title?: string; location?: string; start?: string; minutes?: number }): void;
  remove(guid: string): void;
}

const probes = new Map<string, CalendarProbe>();

/** Latest calendars per dsid (the newest simulator wins), for tests. */
export function calendarProbe(dsid: string): CalendarProbe {
  const probe = probes.get(dsid);
  if (probe === undefined) throw new Error(`no simulated calendar for dsid ${dsid}`);
  return probe;
}

/** `[YYYYMMDD, year, month, day, hour, minute, minutes since midnight]`. */
function appleDate(w: WallTime): [string, number, number, number, number, number, number] {
  const date = `${String(w.year).padStart(4, "0")}${String(w.month).padStart(2, "0")}${String(w.day).padStart(2, "0")}`;
  return [date, w.year, w.month, w.day, w.hour, w.minute, w.hour * 60 + w.minute];
}

const midnight = (w: WallTime): WallTime => ({ ...w, hour: 0, minute: 0, second: 0 });

function eventJson(o: Occurrence, userTz: string): Record<string, unknown> {
  const { event } = o;
  const inUser = (ms: number) => wallTime(ms, userTz);
  const inZone = (ms: number) => wallTime(ms, event.zone);
  const start = event.allDay ? midnight(inUser(o.startMs)) : inUser(o.startMs);
  const end = event.allDay ? midnight(inUser(o.endMs)) : inUser(o.endMs);
  return {
    guid: o.guid,
    pGuid: event.calendarGuid,
    etag: `C=${event.version}@U=${event.guid.toLowerCase()}`,
    title: event.title,
    location: event.location ?? "",
    tz: event.allDay ? "floating" : event.zone,
    allDay: event.allDay,
    startDate: appleDate(start),
    endDate: appleDate(end),
    localStartDate: appleDate(event.allDay ? start : inZone(o.startMs)),
    localEndDate: appleDate(event.allDay ? end : inZone(o.endMs)),
    duration: Math.round((o.endMs - o.startMs) / 60_000),
    recurrenceMaster: false,
    recurrenceException: false,
    ...(event.repeat === undefined ? {} : { recurrence: `${event.guid}*MME-RID` }),
    createdDate: appleDate(wallTime(event.createdAt, userTz)),
    lastModifiedDate: appleDate(wallTime(event.modifiedAt, userTz)),
    icon: 0,
    readOnly: false,
    hasAttachments: false,
    extendedDetailsAreIncluded: true,
    birthdayIsYearlessBday: false,
    shouldShowJunkUIWhenAppropriate: false,
    alarms: [],
    invitees: [],
  };
}

function recurrenceJson(occurrences: readonly Occurrence[]): Record<string, unknown>[] {
  const seen = new Map<string, Record<string, unknown>>();
  for (const { event } of occurrences) {
    if (event.repeat === undefined || seen.has(event.guid)) continue;
    const r = event.repeat;
    seen.set(event.guid, {
      guid: `${event.guid}*MME-RID`,
      pGuid: event.guid,
      freq: r.freq,
      interval: r.interval,
      ...(r.count === undefined ? {} : { count: r.count }),
      ...(r.until === undefined ? {} : { until: r.until }),
      ...(r.by_day === undefined ? {} : { weekDays: r.by_day }),
    });
  }
  return [...seen.values()];
}

/** The request's range; pyicloud's default (this month) when the dates are missing or unreadable. */
function range(req: SimRequest, userTz: string, now: number): { from: string; to: string } {
  const valid = (s: string | null) => (s !== null && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : undefined);
  const from = valid(req.url.searchParams.get("startDate"));
  const to = valid(req.url.searchParams.get("endDate"));
  if (from !== undefined && to !== undefined) {
    // Expansion is bounded to ten years from `from` (the simulator's own limit; nothing larger is asked for).
    const cap = new Date(Date.parse(`${from}T00:00:00Z`) + 3660 * 86_400_000).toISOString().slice(0, 10);
    // `YYYY-MM-DD` dates sort as text: the earlier of `to` and the cap, and never before `from`.
    const bounded = [to, cap].sort()[0] ?? to;
    return { from, to: [from, bounded].sort()[1] ?? from };
  }
  const today = wallTime(now, userTz);
  const month = `${today.year}-${String(today.month).padStart(2, "0")}`;
  const last = new Date(Date.UTC(today.year, today.month, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}` };
}

export const createCalendarRoutes: ServiceRoutesFactory = (ctx: SimServiceContext): Route[] => {
  const epoch = ctx.clock.now();
  const worlds = new Map<string, CalendarWorld>();
  for (const account of ctx.accounts()) {
    const scenario = parseCalendarScenario(account.services["calendar"], account.appleId);
    if (scenario === undefined) continue;
    const world = new CalendarWorld(account.dsid, scenario, epoch, () => ctx.clock.now());
    worlds.set(account.dsid, world);
    probes.set(account.dsid, {
      world,
      add: (event) => world.add(ScenarioEventSchema.parse(event)),
      change: (guid, patch) => world.change(guid, patch),
      remove: (guid) => world.remove(guid),
    });
  }
  // Accounts with a `calendar` section get the webservice; others have Calendars turned off.
  ctx.advertise?.((account, origin) =>
    worlds.has(account.dsid) ? { calendar: { url: origin, status: "active" } } : {},
  );

  function open(req: SimRequest): { world: CalendarWorld; account: SimServiceAccount; userTz: string } | SimResponse {
    const account = ctx.authenticate(req);
    if (account === undefined) return unauthenticated(req);
    // The simulator's choice: Apple's answer for Calendar with web access off is not recorded.
    if (account.webAccessDisabled) return { status: 403, json: { error: "ACCESS_DENIED" } };
    const world = worlds.get(account.dsid);
    // Not advertised for this account; a client that calls anyway gets the simulator's 404.
    if (world === undefined) return { status: 404, json: { error: "NOT_FOUND" } };
    world.catchUp(ctx.clock.now());
    // pyicloud sends the machine's zone name; an unknown or missing one is read as UTC (lenient).
    const asked = req.url.searchParams.get("usertz") ?? "";
    return { world, account, userTz: asked !== "" && isValidTimeZone(asked) ? asked : "UTC" };
  }

  function collections(world: CalendarWorld): Record<string, unknown>[] {
    return world.calendars.map((c, order) => ({
      guid: c.guid,
      title: c.title,
      ctag: world.ctag(c),
      etag: `C=${c.seq}@U=${c.guid.toLowerCase()}`,
      color: c.color,
      symbolicColor: "__custom__",
      enabled: true,
      readOnly: false,
      objectType: "personal",
      supportedType: "Event",
      order: order + 1,
      isDefault: order === 0,
      isFamily: false,
      extendedDetailsAreIncluded: true,
      shareType: null,
      participants: null,
    }));
  }

  function startup(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("world" in opened)) return opened;
    const { world, userTz } = opened;
    const { from, to } = range(req, userTz, ctx.clock.now());
    const occurrences = world.occurrences(from, to, userTz);
    return {
      status: 200,
      json: {
        Collection: collections(world),
        Event: occurrences.map((o) => eventJson(o, userTz)),
        Recurrence: recurrenceJson(occurrences),
        Alarm: [],
        Invitee: [],
      },
    };
  }

  function allCollections(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("world" in opened)) return opened;
    return { status: 200, json: { Collection: collections(opened.world) } };
  }

  function events(req: SimRequest): SimResponse {
    const opened = open(req);
    if (!("world" in opened)) return opened;
    const { world, userTz } = opened;
    const { from, to } = range(req, userTz, ctx.clock.now());
    const occurrences = world.occurrences(from, to, userTz);
    return {
      status: 200,
      json: {
        Event: occurrences.map((o) => eventJson(o, userTz)),
        Recurrence: recurrenceJson(occurrences),
        Alarm: [],
        Invitee: [],
      },
    };
  }

  return [
    { id: "calendar.startup", method: "GET", path: "/ca/startup", handle: startup },
    { id: "calendar.allcollections", method: "GET", path: "/ca/allcollections", handle: allCollections },
    { id: "calendar.events", method: "GET", path: "/ca/events", handle: events },
  ];
};

/**
 * No web session at all → 401; an expired one → 421, as the simulator's other iCloud web services
 * answer (pyicloud's session re-authenticates on 421 for every service, `pyicloud/session.py`).
 */
function unauthenticated(req: SimRequest): SimResponse {
  const hasSession = [...req.cookies.keys()].some((name) => name.startsWith("X-APPLE-WEBAUTH-"));
  if (!hasSession) return { status: 401, json: { error: "AUTHENTICATION_FAILED" } };
  return { status: 421, json: { reason: "Invalid global session", error: 2 } };
}
