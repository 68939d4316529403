import type { z } from "zod";
import { EngineError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../logger.ts";
import type { ServiceResponse, ServiceTransport } from "../service-transport.ts";
import { type PlacedEvent, placeEvent, sortPlaced } from "./map-event.ts";
import { addDays, startOfDay } from "./time-zone.ts";
import type { CalendarInfo, DateRange } from "./types.ts";
import { EventsSchema, StartupSchema, WireCollectionSchema, WireEventSchema } from "./wire.ts";

/** The webservice `accountLogin` names for iCloud Calendar. */
export const CALENDAR_WEBSERVICE = "calendar";

export const NO_CALENDAR_SERVICE_MESSAGE =
  "iCloud offers no Calendar web service for this account (Calendars is turned off in its iCloud settings)";

/**
 * iCloud Calendar through the web service iCloud.com uses (the `calendar` webservice): the calendars
 * with their `ctag`s (`ca/startup`) and the events of a date range with recurring events expanded
 * (`ca/events`), both asked for in the user's time zone (`usertz`).
 */
export class CalendarService {
  readonly #transport: ServiceTransport;
  readonly #log: Logger;

  constructor(transport: ServiceTransport, options: { log?: Logger } = {}) {
    this.#transport = transport;
    this.#log = (options.log ?? silentLogger).child({ client: "calendar" });
  }

  /** The account's event calendars; `today` keeps the events iCloud.com sends along to one day. */
  async calendars(timeZone: string, today: string): Promise<CalendarInfo[]> {
    const body = await this.#get("/ca/startup", StartupSchema, this.#query(timeZone, { from: today, to: today }));
    const calendars: CalendarInfo[] = [];
    for (const raw of body.Collection) {
      const parsed = WireCollectionSchema.safeParse(raw);
      if (!parsed.success) continue;
      const c = parsed.data;
      // Reminders lists share the collection list on older accounts.
      if (c.supportedType !== undefined && c.supportedType !== null && c.supportedType !== "Event") continue;
      calendars.push({
        id: c.guid,
        title: c.title ?? "",
        color: c.color ?? null,
        read_only: c.readOnly === true,
        ctag: c.ctag ?? null,
      });
    }
    return calendars;
  }

  /** The occurrences overlapping `range` (inclusive dates in `timeZone`), sorted by start. */
  async events(range: DateRange, timeZone: string, calendars: readonly CalendarInfo[]): Promise<PlacedEvent[]> {
    const body = await this.#get("/ca/events", EventsSchema, this.#query(timeZone, range));
    const byId = new Map(calendars.map((c) => [c.id, c]));
    const from = startOfDay(range.from, timeZone);
    const to = startOfDay(addDays(range.to, 1), timeZone);
    const wire = [];
    let skipped = 0;
    for (const raw of body.Event) {
      const parsed = WireEventSchema.safeParse(raw);
      if (parsed.success) wire.push(parsed.data);
      else skipped += 1;
    }
    // A series' master stands for occurrences that come as events of their own (`<master>*<occurrence>`).
    const series = new Set(wire.filter((e) => e.guid.includes("*")).map((e) => e.guid.slice(0, e.guid.indexOf("*"))));
    const seen = new Set<string>();
    const placed: PlacedEvent[] = [];
    for (const item of wire) {
      if (seen.has(item.guid) || (item.recurrenceMaster === true && series.has(item.guid))) continue;
      seen.add(item.guid);
      const event = placeEvent(item, byId.get(item.pGuid), timeZone);
      // Overlapping the range; an event of no length counts when it sits inside it.
      const overlaps =
        event.startMs < to && (event.endMs > from || (event.startMs === event.endMs && event.startMs >= from));
      if (overlaps) placed.push(event);
    }
    if (skipped > 0) this.#log.warn("skipped unreadable calendar events", { count: skipped });
    this.#log.debug("read calendar events", { from: range.from, to: range.to, events: placed.length });
    return sortPlaced(placed);
  }

  #query(timeZone: string, range: DateRange): Record<string, string> {
    return { lang: "en-us", usertz: timeZone, startDate: range.from, endDate: range.to };
  }

  async #get<S extends z.ZodType>(path: string, schema: S, query: Record<string, string>): Promise<z.output<S>> {
    if (this.#transport.serviceUrl(CALENDAR_WEBSERVICE) === undefined) {
      throw new EngineError("SERVICE_NOT_AVAILABLE", NO_CALENDAR_SERVICE_MESSAGE);
    }
    const response = await this.#transport.request(CALENDAR_WEBSERVICE, path, { method: "GET", query });
    return parse(response, path, schema);
  }
}

function parse<S extends z.ZodType>(response: ServiceResponse, path: string, schema: S): z.output<S> {
  const { status } = response;
  const info = { status };
  if (status === 401 || status === 421)
    throw new EngineError("SESSION_EXPIRED", `calendar ${path}: the session was refused (${status})`, { info });
  if (status === 403)
    throw new EngineError(
      "WEB_ACCESS_DISABLED",
      "iCloud refused access to Calendar (403): turn on Access iCloud Data on the Web in the Apple ID's iCloud settings",
      { info },
    );
  if (status === 429) throw new EngineError("RATE_LIMITED", `calendar ${path}: rate limited (429)`, { info });
  if (status >= 500)
    throw new EngineError("SERVICE_UNAVAILABLE", `calendar ${path}: Apple answered ${status}`, { info });
  if (status !== 200)
    throw new EngineError("UNEXPECTED_RESPONSE", `calendar ${path}: Apple answered ${status}`, { info });
  const parsed = schema.safeParse(response.json);
  if (!parsed.success) {
    throw new EngineError("UNEXPECTED_RESPONSE", `calendar ${path} answered an unexpected body`, {
      info: { issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`) },
    });
  }
  return parsed.data;
}
