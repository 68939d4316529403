import type { CardItem, HttpServiceView } from "../../../http/service-view.ts";
import type { CallkitCall } from "../../../icloud/calls/types.ts";
import type { CallsSnapshot } from "./events.ts";

function item(call: CallkitCall): CardItem {
  const kind = call.missed ? "Missed" : call.direction === "incoming" ? "Incoming" : "Outgoing";
  return {
    id: call.id,
    title: call.name ?? call.address,
    subtitle: call.name === null ? kind : `${kind} · ${call.address}`,
    facts: [
      { label: "When", value: call.date, format: "time" },
      { label: "Duration (s)", value: call.duration, format: "number" },
    ],
    badges: call.missed ? [{ text: "Missed", tone: "warn" }] : [],
  };
}

/** Calls in the HTTP API and on the web page: the newest call and the recent ones. */
export const callsHttp: HttpServiceView<CallsSnapshot> = {
  view: (snapshot) => ({ last: snapshot.last, recent: snapshot.recent }),
  card: (snapshot) => ({ itemsTitle: "Recent calls", items: snapshot.recent.map(item), empty: "No calls yet." }),
  files: {},
};
