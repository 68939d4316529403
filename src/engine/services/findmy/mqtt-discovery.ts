import type { FmipDevice } from "../../../icloud/findmy/types.ts";
import { binarySensor, booleanTemplate } from "../../../mqtt/discovery/binary-sensor.ts";
import { requestButton } from "../../../mqtt/discovery/button.ts";
import { accountAvailability, bridgeAvailability, origin } from "../../../mqtt/discovery/common.ts";
import { deviceTracker } from "../../../mqtt/discovery/device-tracker.ts";
import { requestNotify } from "../../../mqtt/discovery/notify.ts";
import { batterySensor, enumSensor, sensor, timestampSensor } from "../../../mqtt/discovery/sensor.ts";
import type { DeviceDiscovery, EntityContext } from "../../../mqtt/discovery/types.ts";
import { objectSlug, type Topics, topicKey } from "../../../mqtt/topics.ts";

/** A device's topic level: its friendly name, or (devices without one) a key from its id. */
export function deviceSegment(device: Pick<FmipDevice, "id" | "slug">): string {
  return device.slug ?? topicKey(device.id);
}

/** `<base>/<account>/devices/<friendly name>`: one device's `fmip.device` JSON. */
export function deviceTopic(topics: Topics, account: string, device: Pick<FmipDevice, "id" | "slug">): string {
  return topics.account(account, "devices", deviceSegment(device));
}

/** `<base>/<account>/findmy/stale`: per device topic level, whether its location is stale (see `staleMap`). */
export function staleTopic(topics: Topics, account: string): string {
  return topics.account(account, "findmy", "stale");
}

/** Apple's `batteryStatus` as an enum state; `Unknown` (and anything new) is Home Assistant's unknown. */
export const BATTERY_STATE_OPTIONS = ["charging", "not_charging", "charged"];
const BATTERY_STATE_TEMPLATE =
  "{% set s = value_json.battery_status %}{% if s == 'Charging' %}charging{% elif s == 'NotCharging' %}not_charging{% elif s == 'Charged' %}charged{% else %}None{% endif %}";

/**
 * Discovery for one Find My device: tracker, battery (level and state), charging, low power mode, last
 * located, location stale, GPS accuracy, online, play sound / locate buttons and a notify entity that
 * shows a message; with a home configured (`at_home` present) also presence and distance from home.
 * Data entities take the bridge's availability only: while the account waits for a code they keep
 * their last state (no "away", no unknown batteries) and `stale` turns on; actions also need the session.
 */
export function appleDeviceDiscovery(
  topics: Topics,
  version: string,
  account: string,
  device: Pick<FmipDevice, "id" | "name" | "model_name" | "at_home" | "slug">,
): DeviceDiscovery {
  const nodeId = topics.deviceNodeId(account, device.id);
  const stateTopic = deviceTopic(topics, account, device);
  const segment = deviceSegment(device);
  const data: EntityContext = {
    uniquePrefix: nodeId,
    objectPrefix: device.slug ?? objectSlug(device.name, objectSlug(segment)),
    availability: bridgeAvailability(topics),
  };
  const action: EntityContext = { ...data, availability: accountAvailability(topics, account) };
  const request = { account, device: device.id };
  const located = (expression: string) => `{% if value_json.location %}{{ ${expression} }}{% else %}None{% endif %}`;
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
      tracker: deviceTracker(data, { key: "tracker", name: null }, stateTopic),
      battery: batterySensor(data, { key: "battery" }, stateTopic, "{{ value_json.battery_percent }}"),
      battery_state: enumSensor(
        data,
        { key: "battery_state", name: "Battery state", icon: "mdi:battery-charging" },
        stateTopic,
        BATTERY_STATE_TEMPLATE,
        BATTERY_STATE_OPTIONS,
      ),
      charging: binarySensor(data, { key: "charging" }, "battery_charging", stateTopic, booleanTemplate("charging")),
      low_power_mode: binarySensor(
        data,
        { key: "low_power_mode", name: "Low power mode", icon: "mdi:battery-heart-variant" },
        undefined,
        stateTopic,
        booleanTemplate("low_power_mode"),
      ),
      last_located: timestampSensor(
        data,
        { key: "last_located", name: "Last located", entityCategory: "diagnostic" },
        stateTopic,
        "{{ value_json.last_located }}",
      ),
      stale: binarySensor(
        data,
        { key: "stale", name: "Location stale", icon: "mdi:map-marker-question" },
        undefined,
        staleTopic(topics, account),
        `{% set s = value_json.get('${segment}') %}{% if s is none %}None{% elif s %}ON{% else %}OFF{% endif %}`,
      ),
      gps_accuracy: sensor(
        data,
        { key: "gps_accuracy", name: "GPS accuracy", entityCategory: "diagnostic", icon: "mdi:map-marker-radius" },
        {
          state_topic: stateTopic,
          value_template: located("value_json.location.horizontal_accuracy | round(0)"),
          device_class: "distance",
          unit_of_measurement: "m",
          state_class: "measurement",
          suggested_display_precision: 0,
        },
      ),
      online: binarySensor(
        data,
        { key: "online", entityCategory: "diagnostic" },
        "connectivity",
        stateTopic,
        booleanTemplate("online"),
      ),
      ...(device.at_home === undefined
        ? {}
        : {
            home: binarySensor(data, { key: "home", name: "Home" }, "presence", stateTopic, booleanTemplate("at_home")),
            home_distance: sensor(
              data,
              { key: "home_distance", name: "Distance from home", icon: "mdi:home-map-marker" },
              {
                state_topic: stateTopic,
                value_template: "{{ value_json.home_distance }}",
                device_class: "distance",
                unit_of_measurement: "m",
                state_class: "measurement",
                suggested_display_precision: 0,
              },
            ),
          }),
      play_sound: requestButton(
        action,
        { key: "play_sound", name: "Play sound" },
        topics.request("play_sound"),
        request,
        "identify",
      ),
      locate: requestButton(
        action,
        { key: "locate", name: "Locate", icon: "mdi:crosshairs-gps" },
        topics.request("locate"),
        request,
      ),
      message: requestNotify(
        action,
        { key: "message", name: "Message", icon: "mdi:message-text" },
        topics.request("send_message"),
        request,
        "text",
      ),
    },
  };
}
