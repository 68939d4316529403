export { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from "./embedded-broker.ts";
export { MqttFrontend, type MqttFrontendConfig } from "./mqtt-frontend.ts";
export { MQTT_DEFAULTS, type MqttFrontendOptions, withDefaults } from "./options.ts";
export { type ErrorResponse, type OkResponse, parseRequest } from "./requests.ts";
export { objectSlug, Topics, topicKey } from "./topics.ts";
