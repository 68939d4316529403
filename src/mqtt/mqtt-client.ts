import "./native-timers.ts";
import type { MqttClient } from "mqtt";
import * as clientModule from "mqtt/lib/client";

/**
 * mqtt.js's `MqttClient` from its own file, not from the package's entry, which loads every
 * transport (WebSocket, SOCKS) and the browser's worker timers (src/mqtt/connect.ts). A static
 * import, after native-timers.ts, so that the command's bundle takes it in.
 */
function clientClass(): typeof MqttClient {
  // Node gives a CommonJS module's `exports` as the default export; its `default` is the class.
  const exported: unknown = (clientModule as { default?: unknown }).default;
  if (typeof exported === "function") return exported as typeof MqttClient;
  return (exported as { default: typeof MqttClient }).default;
}

export const Client = clientClass();
