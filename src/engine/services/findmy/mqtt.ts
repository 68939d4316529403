import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import { requestButton } from "../../../mqtt/discovery/button.ts";
import type { MqttOutput, MqttServiceView } from "../../../mqtt/service-view.ts";
import { byCodeUnits } from "../../../util/compare.ts";
import type { AccountState } from "../../account-state.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { appleDeviceDiscovery, deviceSegment, deviceTopic, staleTopic } from "./mqtt-discovery.ts";
import { type FindMyRemoteState, findMyRemote } from "./mqtt-remote.ts";

/**
 * Whether each device's location is stale, by topic level: Apple flags the fix as old, there is no fix,
 * the last Find My refresh failed, or the session is not active (waiting for a code, expired): the
 * tracker then keeps its last position, and this says not to trust it.
 */
export function staleMap(state: AccountState, devices: readonly FmipDevice[]): Record<string, boolean> {
  const fresh = state.session.state === "active" && state.services.findmy.message === null;
  return Object.fromEntries(
    [...devices]
      .sort((a, b) => byCodeUnits(deviceSegment(a), deviceSegment(b)))
      .map((d) => [deviceSegment(d), !fresh || d.location_stale || d.location === null]),
  );
}

/**
 * Find My on MQTT: `<base>/<account>/devices/<friendly name>` (retained `fmip.device` JSON, on change
 * only), `<base>/<account>/findmy/stale` (which locations are stale) and one Home Assistant device per
 * Apple device (tracker, battery, charging, …), removed with the device.
 */
export const findMyMqtt: MqttServiceView<FindMySnapshot, FindMyEvents, FindMyRemoteState> = {
  snapshot: (ctx, account, snapshot) =>
    snapshot.devices.flatMap((device) => findMyMqtt.events["device.updated"]?.(ctx, { account, device }) ?? []),
  events: {
    "device.updated": ({ topics, version }, { account, device }): MqttOutput[] => [
      {
        kind: "discovery",
        nodeId: topics.deviceNodeId(account, device.id),
        payload: appleDeviceDiscovery(topics, version, account, device),
      },
      { kind: "state", topic: deviceTopic(topics, account, device), payload: JSON.stringify(device), retain: true },
    ],
    "device.removed": ({ topics }, { account, deviceId, slug }): MqttOutput[] => [
      { kind: "clear-discovery", nodeId: topics.deviceNodeId(account, deviceId) },
      { kind: "clear", topic: deviceTopic(topics, account, { id: deviceId, ...(slug === null ? {} : { slug }) }) },
    ],
  },
  accountState: ({ topics }, state, snapshot) => [
    {
      kind: "state",
      topic: staleTopic(topics, state.account),
      payload: JSON.stringify(staleMap(state, snapshot.devices)),
      retain: true,
    },
  ],
  accountComponents: ({ topics }, account, { action }) => ({
    locate_all: requestButton(
      action,
      { key: "locate_all", name: "Locate all devices", icon: "mdi:crosshairs-gps" },
      topics.request("locate"),
      { account: account.id },
    ),
  }),
  ownedStateFilters: ({ topics }) => [topics.anyAccount("devices", "+"), topics.anyAccount("findmy", "stale")],
  remote: findMyRemote,
};
