import type { HttpServiceView } from "../../../http/service-view.ts";
import type { FindMySnapshot } from "./events.ts";

/** Find My in the HTTP API and on the web page: the devices, sorted by name. */
export const findMyHttp: HttpServiceView<FindMySnapshot> = {
  view: (snapshot) => ({
    devices: [...snapshot.devices].sort((a, b) => a.name.localeCompare(b.name)),
  }),
  files: {},
};
