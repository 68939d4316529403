import type { ConnectionListener, MqttConnection } from "icloud2mqtt/remote";
import type { NodeStatus } from "./account-status.ts";

/**
 * What Node-RED's `mqtt-broker` config node offers its users (the mqtt in/out nodes): the same calls
 * in Node-RED 4.1 and 5.0 (`@node-red/nodes/core/network/10-mqtt.js`). It connects when its first
 * user registers, subscribes again by itself after a reconnect, and tells its users about the
 * connection through their `status()`.
 */
export interface BrokerNode {
  readonly connected: boolean;
  register(user: BrokerUser): void;
  deregister(user: BrokerUser, done: () => void, autoDisconnect?: boolean): void;
  subscribe(
    topic: string,
    options: { qos: number },
    callback: (topic: string, payload: Buffer, packet: { retain?: boolean }) => void,
    ref: string,
  ): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  publish(
    msg: { topic: string; payload: string; qos: number; retain: boolean },
    done?: (error?: Error | string) => void,
  ): void;
}

/** A user of the broker node, as it sees the mqtt in/out nodes. */
export interface BrokerUser {
  readonly id: string;
  status(status: NodeStatus): void;
}

/** Duck-typing the config node `RED.nodes.getNode(id)` returned (it is not ours). */
export function isBrokerNode(node: unknown): node is BrokerNode {
  if (typeof node !== "object" || node === null) return false;
  const candidate = node as Record<string, unknown>;
  return ["register", "deregister", "subscribe", "unsubscribe", "publish"].every(
    (name) => typeof candidate[name] === "function",
  );
}

export interface BrokerConnection extends MqttConnection {
  /** Deregisters from the broker node (which disconnects when it has no other users). */
  close(): Promise<void>;
}

/**
 * A `MqttConnection` for `RemoteEngine` on a Node-RED `mqtt-broker` node, so bridge mode shares the
 * broker connection the user configured (TLS, credentials, client id) with their mqtt nodes.
 *
 * - Connects and disconnects come from the broker's status calls, compared with `connected`.
 * - Subscriptions are made once: the broker node renews them after a reconnect itself.
 * - A message matching several of our filters reaches each filter's callback with the same packet;
 *   it is passed on once.
 */
export function brokerConnection(broker: BrokerNode, ref: string): BrokerConnection {
  const listeners = new Set<ConnectionListener>();
  const subscribed = new Set<string>();
  let seen = new WeakSet<object>();
  let wasConnected = broker.connected;
  const user: BrokerUser = {
    id: `${ref}:icloud2mqtt`,
    status: () => {
      const now = broker.connected;
      if (now === wasConnected) return;
      wasConnected = now;
      for (const listener of [...listeners]) {
        if (now) listener.connect();
        else listener.disconnect();
      }
    },
  };
  const deliver = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
    if (typeof packet === "object" && packet !== null) {
      if (seen.has(packet)) return;
      seen.add(packet);
    }
    for (const listener of [...listeners]) listener.message(topic, payload, packet?.retain === true);
  };
  broker.register(user);
  return {
    get connected() {
      return broker.connected;
    },
    subscribe: async (filters) => {
      for (const filter of filters) {
        if (subscribed.has(filter)) continue;
        subscribed.add(filter);
        broker.subscribe(filter, { qos: 1 }, deliver, ref);
      }
    },
    unsubscribe: async (filters) => {
      for (const filter of filters) {
        if (!subscribed.delete(filter)) continue;
        broker.unsubscribe(filter, ref, true);
      }
    },
    publish: (topic, payload, { retain }) =>
      new Promise<void>((resolve, reject) => {
        // The broker node drops what it cannot send without calling back.
        if (!broker.connected) {
          reject(new Error("not connected to the MQTT broker"));
          return;
        }
        broker.publish({ topic, payload, qos: 1, retain }, (error) => {
          if (error === undefined || error === null) resolve();
          else reject(error instanceof Error ? error : new Error(String(error)));
        });
      }),
    listen: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const filter of subscribed) broker.unsubscribe(filter, ref, true);
        subscribed.clear();
        listeners.clear();
        seen = new WeakSet();
        broker.deregister(user, () => resolve(), true);
      }),
  };
}
