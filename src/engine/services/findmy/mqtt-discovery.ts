import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import { binarySensor, booleanTemplate } from "../../../mqtt/discovery/binary-sensor.ts";
import { requestButton } from "../../../mqtt/discovery/button.ts";
import { accountAvailability, origin } from "../../../mqtt/discovery/common.ts";
import { deviceTracker } from "../../../mqtt/discovery/device-tracker.ts";
import { batterySensor, timestampSensor } from "../../../mqtt/discovery/sensor.ts";
import type { DeviceDiscovery, EntityContext } from "../../../mqtt/discovery/types.ts";
import { objectSlug, type Topics, topicKey } from "../../../mqtt/topics.ts";

/** `<base>/<account>/devices/<device>`: one device's `fmip.device` JSON. */
export function deviceTopic(topics: Topics, account: string, deviceId: string): string {
  return topics.account(account, "devices", topicKey(deviceId));
}

/**
 * Discovery for one Find My device: tracker, battery, charging, last located, online, two buttons,
 * and a home presence sensor when the account has a home configured (`at_home` present).
 */
export function appleDeviceDiscovery(
  topics: Topics,
  version: string,
  account: string,
  device: Pick<FmipDevice, "id" | "name" | "model_name" | "at_home">,
): DeviceDiscovery {
  const nodeId = topics.deviceNodeId(account, device.id);
  const stateTopic = deviceTopic(topics, account, device.id);
  const ctx: EntityContext = {
    uniquePrefix: nodeId,
    objectPrefix: objectSlug(device.name),
    availability: accountAvailability(topics, account),
  };
  const request = { account, device: device.id };
  return {
    device: {
      identifiers: [nodeId],
      name: device.name,
      manufacturer: "Apple",
      model: device.model_name,
      via_device: topics.accountNodeId(account),
    },
    origin: origin(version),
    cmps: {
      tracker: deviceTracker(ctx, { key: "tracker", name: null }, stateTopic),
      battery: batterySensor(ctx, { key: "battery", name: "Battery" }, stateTopic, "{{ value_json.battery_percent }}"),
      charging: binarySensor(
        ctx,
        { key: "charging", name: "Charging" },
        "battery_charging",
        stateTopic,
        booleanTemplate("charging"),
      ),
      last_located: timestampSensor(
        ctx,
        { key: "last_located", name: "Last located", entityCategory: "diagnostic" },
        stateTopic,
        "{{ value_json.last_located }}",
      ),
      online: binarySensor(
        ctx,
        { key: "online", name: "Online", entityCategory: "diagnostic" },
        "connectivity",
        stateTopic,
        booleanTemplate("online"),
      ),
      ...(device.at_home === undefined
        ? {}
        : {
            home: binarySensor(ctx, { key: "home", name: "Home" }, "presence", stateTopic, booleanTemplate("at_home")),
          }),
      play_sound: requestButton(
        ctx,
        { key: "play_sound", name: "Play sound" },
        topics.request("play_sound"),
        request,
        "identify",
      ),
      locate: requestButton(
        ctx,
        { key: "locate", name: "Locate", icon: "mdi:crosshairs-gps" },
        topics.request("locate"),
        request,
      ),
    },
  };
}
