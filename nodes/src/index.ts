/**
 * `node-red-contrib-icloud2mqtt`: Node-RED nodes on the icloud2mqtt engine (`icloud2mqtt/engine`).
 * The nodes themselves are not built yet; this holds what they share.
 */
export { accountStatus, errorName, type NodeStatus } from "./account-status.ts";
