import type { IClientOptions } from "mqtt";
import { OFFLINE } from "./messages.ts";
import type { MqttFrontendOptions } from "./options.ts";

/** mqtt.js options: the retained QoS 1 last will `{"state":"offline"}`, credentials and TLS when set (reconnects: connection.ts). */
export function clientOptionsFor(o: MqttFrontendOptions, willTopic: string): IClientOptions {
  return {
    clientId: o.clientId,
    keepalive: o.keepalive,
    rejectUnauthorized: o.rejectUnauthorized,
    // The bridge subscribes again itself on every connect.
    resubscribe: false,
    will: { topic: willTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.ca === undefined ? {} : { ca: o.ca }),
    ...(o.cert === undefined ? {} : { cert: o.cert }),
    ...(o.key === undefined ? {} : { key: o.key }),
  };
}
