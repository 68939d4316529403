/**
 * `icloud2mqtt/remote`: the engine's API over MQTT, against an icloud2mqtt that already runs. Front-ends
 * (Node-RED, Homebridge, your own code) use a `RemoteEngine` exactly like an embedded `Engine`.
 * Importing this loads mqtt.js; `icloud2mqtt/engine` does not.
 */

export { type ConnectionListener, type MqttConnection, mqttJsConnection } from "./connection.ts";
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_TIMEOUTS,
  type RemoteConnectOptions,
  type RemoteEngineOptions,
} from "./options.ts";
export { RemoteEngine } from "./remote-engine.ts";
