import { requestButton } from "../../../mqtt/discovery/button.ts";
import type { MqttOutput, MqttServiceView } from "../../../mqtt/service-view.ts";
import type { FindMyEvents, FindMySnapshot } from "./events.ts";
import { appleDeviceDiscovery, deviceTopic } from "./mqtt-discovery.ts";
import { type FindMyRemoteState, findMyRemote } from "./mqtt-remote.ts";

/**
 * Find My on MQTT: `<base>/<account>/devices/<device>` (retained `fmip.device` JSON, on change only) and
 * one Home Assistant device per Apple device (tracker, battery, charging, …), removed with the device.
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
      { kind: "state", topic: deviceTopic(topics, account, device.id), payload: JSON.stringify(device), retain: true },
    ],
    "device.removed": ({ topics }, { account, deviceId }): MqttOutput[] => [
      { kind: "clear-discovery", nodeId: topics.deviceNodeId(account, deviceId) },
      { kind: "clear", topic: deviceTopic(topics, account, deviceId) },
    ],
  },
  accountComponents: ({ topics }, account, { data }) => ({
    locate_all: requestButton(
      data,
      { key: "locate_all", name: "Locate all devices", icon: "mdi:crosshairs-gps" },
      topics.request("locate"),
      { account: account.id },
    ),
  }),
  ownedStateFilters: ({ topics }) => [topics.anyAccount("devices", "+")],
  remote: findMyRemote,
};
