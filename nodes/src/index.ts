/**
 * `node-red-contrib-icloud2mqtt`: Node-RED nodes on the icloud2mqtt engine (`icloud2mqtt/engine`).
 * Node-RED loads the node files (`dist/nodes/*.cjs`, listed in package.json); this entry point
 * exports the pure parts they are made of (statuses, filters, message shapes, input parsing, error
 * mapping). It loads neither MQTT nor the node files, so importing it never registers anything.
 */
export { type AccountPlan, accountIdFor, planAccount } from "./account-settings.ts";
export { accountStatus, bridgeOffline, errorName, type NodeStatus } from "./account-status.ts";
export { ACTIONS, type Action, actionRequest } from "./action-input.ts";
export { type DeviceFilter, DeviceWatch, deviceStatus, timeAgo } from "./device-watch.ts";
export { codeRequest, EVENT_KINDS, eventKind, eventMessage } from "./event-messages.ts";
export { mfaRequest } from "./mfa-input.ts";
export { httpReply, type NodeError, toNodeError } from "./node-errors.ts";
