import type { Topics } from "../topics.ts";
import { binarySensor } from "./binary-sensor.ts";
import { ORIGIN_NAME, origin } from "./common.ts";
import type { DeviceDiscovery } from "./types.ts";

/** The bridge itself (the `via_device` of every account): one connection-state sensor. */
export function bridgeDiscovery(topics: Topics, version: string): DeviceDiscovery {
  const nodeId = topics.bridgeNodeId();
  const connection = binarySensor(
    { uniquePrefix: nodeId, objectPrefix: nodeId, availability: [] },
    { key: "connection_state", name: "Connection state", entityCategory: "diagnostic" },
    "connectivity",
    topics.bridgeState,
    "{{ value_json.state }}",
    { on: "online", off: "offline" },
  );
  return {
    device: {
      identifiers: [nodeId],
      name: `${ORIGIN_NAME} bridge`,
      manufacturer: ORIGIN_NAME,
      model: "Bridge",
      sw_version: version,
    },
    origin: origin(version),
    cmps: { connection_state: connection },
  };
}
