import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

/**
 * Find My in the ricloud-compatible API: `fmip.devices` results hold every device as `fmip.device`
 * (the JSON MQTT publishes). A poll refreshes the list unless one was read within 10 s and never
 * wakes a device; the devices in `findmy.locate` get fresh fixes on `locate_schedule`.
 */
export const findMyRicloud: RicloudServiceView = {
  items: async (api, account) => (await api.execute("list_devices", { account })).devices,
};
