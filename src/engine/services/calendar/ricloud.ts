import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

/**
 * The calendar in the ricloud-compatible API: `mme_calendar.events` results hold the events (recurring
 * ones expanded) as `mme_calendar.event`, in the window `since`/`until` when the poll gives one,
 * else the calendar service's default window.
 */
export const calendarRicloud: RicloudServiceView = {
  items: async (api, account, filters) =>
    (
      await api.execute("list_events", {
        account,
        // The command takes days (the calendar's time zone); the filters are instants.
        ...(filters.since === undefined ? {} : { from: filters.since.slice(0, 10) }),
        ...(filters.until === undefined ? {} : { to: filters.until.slice(0, 10) }),
      })
    ).events,
};
