import type { MqttClient } from "mqtt";

/** What a remote engine hears from its connection. */
export interface ConnectionListener {
  message(topic: string, payload: Buffer, retained: boolean): void;
  /** The connection to the broker (re)opened. Subscriptions may be gone: the remote engine makes them again. */
  connect(): void;
  /** The connection to the broker was lost (the connection's owner reconnects). */
  disconnect(): void;
}

/**
 * The MQTT connection a `RemoteEngine` runs on. Small on purpose, so a front-end can hand in the
 * connection it already has (Node-RED's `mqtt-broker` node, Homebridge's own client): subscribe,
 * unsubscribe and publish at QoS 1, the connected flag, and the three events. The engine never
 * connects or disconnects it.
 */
export interface MqttConnection {
  readonly connected: boolean;
  subscribe(filters: readonly string[]): Promise<void>;
  unsubscribe(filters: readonly string[]): Promise<void>;
  publish(topic: string, payload: string, options: { retain: boolean }): Promise<void>;
  /** Starts listening; the returned function stops it. */
  listen(listener: ConnectionListener): () => void;
}

/** An mqtt.js client as a `MqttConnection` (QoS 1 throughout). */
export function mqttJsConnection(client: MqttClient): MqttConnection {
  return {
    get connected() {
      return client.connected;
    },
    subscribe: async (filters) => {
      if (filters.length > 0) await client.subscribeAsync([...filters], { qos: 1 });
    },
    unsubscribe: async (filters) => {
      if (filters.length > 0) await client.unsubscribeAsync([...filters]);
    },
    publish: async (topic, payload, { retain }) => {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    },
    listen: (listener) => {
      const message = (topic: string, payload: Buffer, packet: { retain: boolean }) =>
        listener.message(topic, payload, packet.retain);
      const connect = () => listener.connect();
      const close = () => listener.disconnect();
      client.on("message", message);
      client.on("connect", connect);
      client.on("close", close);
      return () => {
        client.off("message", message);
        client.off("connect", connect);
        client.off("close", close);
      };
    },
  };
}
