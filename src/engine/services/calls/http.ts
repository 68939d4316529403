import type { HttpServiceView } from "../../../http/service-view.ts";
import type { CallsSnapshot } from "./events.ts";

/** Calls in the HTTP API and on the web page: the newest call. */
export const callsHttp: HttpServiceView<CallsSnapshot> = {
  view: (snapshot) => ({ last: snapshot.last }),
  files: {},
};
