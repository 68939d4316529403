export { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from "./embedded-broker.ts";
export { MqttBridge, type MqttBridgeConfig } from "./mqtt-bridge.ts";
export { MQTT_DEFAULTS, type MqttBridgeOptions, withDefaults } from "./options.ts";
export { type ErrorResponse, type OkResponse, parseRequest } from "./requests.ts";
export { objectSlug, Topics, topicKey } from "./topics.ts";
