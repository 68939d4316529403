/**
 * `node-red-contrib-icloud2mqtt`: Node-RED nodes on the icloud2mqtt engine (`icloud2mqtt/engine`).
 * Node-RED loads the node files (`dist/nodes/*.cjs`, listed in package.json); this entry point
 * exports what they are made of, for tests and for people building on them.
 */
export { AccountHandle, type AccountView } from "./account-handle.ts";
export { type AccountPlan, accountIdFor, planAccount } from "./account-settings.ts";
export { accountStatus, bridgeOffline, errorName, type NodeStatus } from "./account-status.ts";
export { ACTIONS, type Action, actionRequest } from "./action-input.ts";
export { type BrokerNode, brokerConnection } from "./broker-connection.ts";
export { type DeviceFilter, DeviceWatch, deviceStatus, timeAgo } from "./device-watch.ts";
export { EnginePool, enginePool } from "./engine-pool.ts";
export { codeRequest, EVENT_KINDS, eventKind, eventMessage } from "./event-messages.ts";
export { mfaRequest } from "./mfa-input.ts";
export { httpReply, type NodeError, toNodeError } from "./node-errors.ts";
export { register as registerAccountNode } from "./nodes/icloud-account.ts";
export { register as registerActionNode } from "./nodes/icloud-action.ts";
export { register as registerDeviceNode } from "./nodes/icloud-device.ts";
export { register as registerEventsNode } from "./nodes/icloud-events.ts";
export { register as registerMfaNode } from "./nodes/icloud-mfa.ts";
export type { NodeRedApi } from "./red.ts";
