import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

/**
 * Call history in the ricloud-compatible API: `callkit.calls` results hold the call history newest
 * first as `callkit.call` (the JSON MQTT publishes), filtered by `since`/`until` when the poll gives them.
 */
export const callsRicloud: RicloudServiceView = {
  items: async (api, account, filters) => {
    const since = filters.since === undefined ? {} : { since: filters.since };
    const { calls } = await api.execute("list_calls", { account, ...since });
    const until = filters.until === undefined ? undefined : Date.parse(filters.until);
    return until === undefined ? calls : calls.filter((call) => Date.parse(call.date) < until);
  },
};
