/**
 * `icloud2mqtt`: the engine library (also at `icloud2mqtt/engine`) plus the program's own pieces:
 * the configuration schema and loader, and `startBridge`, which runs the engine with its MQTT and
 * HTTP front-ends as `icloud2mqtt run` does.
 */

export { type RunningBridge, type StartBridgeOptions, startBridge } from "./bridge.ts";
export { loadConfig } from "./config/load.ts";
export { type Config, type ConfigInput, ConfigSchema } from "./config/schema.ts";
export * from "./engine/index.ts";
