import type { CardBadge, CardFact, CardItem, HttpServiceView } from "../../../http/service-view.ts";
import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import type { FindMySnapshot } from "./events.ts";

const BATTERY_STATES: Record<string, string> = {
  Charging: "charging",
  NotCharging: "not charging",
  Charged: "charged",
};

const byName = (a: FmipDevice, b: FmipDevice) => a.name.localeCompare(b.name);

function badges(device: FmipDevice): CardBadge[] {
  const out: CardBadge[] = [];
  if (device.at_home === true) out.push({ text: "Home", tone: "ok" });
  if (device.at_home === false) out.push({ text: "Away", tone: "info" });
  if (device.charging === true) out.push({ text: "Charging", tone: "ok" });
  if (device.low_power_mode) out.push({ text: "Low power", tone: "warn" });
  if (device.location_stale || device.location === null) out.push({ text: "Location stale", tone: "muted" });
  if (!device.online) out.push({ text: "Offline", tone: "muted" });
  return out;
}

function item(device: FmipDevice): CardItem {
  const facts: CardFact[] = [
    { label: "Battery", value: device.battery_percent, format: "percent" },
    { label: "Battery state", value: BATTERY_STATES[device.battery_status] ?? "unknown" },
    { label: "Last located", value: device.last_located, format: "time" },
  ];
  if (device.home_distance !== undefined)
    facts.push({ label: "Distance from home", value: device.home_distance, format: "distance" });
  if (device.location !== null)
    facts.push({ label: "Accuracy", value: Math.round(device.location.horizontal_accuracy), format: "distance" });
  const target = { device: device.id };
  return {
    id: device.id,
    title: device.name,
    subtitle: device.owner === null ? device.model_name : `${device.model_name} · ${device.owner.name}`,
    facts,
    badges: badges(device),
    ...(device.location === null
      ? {}
      : {
          location: {
            latitude: device.location.latitude,
            longitude: device.location.longitude,
            accuracy: device.location.horizontal_accuracy,
          },
        }),
    buttons: [
      { label: "Play sound", command: "play_sound", input: target, confirm: `Play a sound on ${device.name}?` },
      { label: "Locate", command: "locate", input: target },
    ],
  };
}

/** Find My in the HTTP API and on the web page: the devices, sorted by name, with a map and their actions. */
export const findMyHttp: HttpServiceView<FindMySnapshot> = {
  view: (snapshot) => ({ devices: [...snapshot.devices].sort(byName) }),
  card: (snapshot) => ({
    itemsTitle: "Devices",
    items: [...snapshot.devices].sort(byName).map(item),
    empty: "No devices yet.",
  }),
  files: {},
};
