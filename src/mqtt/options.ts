/** Connection and topic settings of the MQTT front-end (the config loader maps its YAML onto this). */
export interface MqttFrontendOptions {
  /** `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`. */
  url: string;
  username?: string;
  /** Never published and never logged. */
  password?: string;
  /** PEM contents (not paths) for TLS. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized: boolean;
  clientId: string;
  /** Root of every topic the bridge owns, e.g. `icloud2mqtt`. */
  baseTopic: string;
  /** Publish Home Assistant discovery. */
  discovery: boolean;
  /** Home Assistant discovery prefix, e.g. `homeassistant`. */
  discoveryPrefix: string;
  /** Home Assistant birth/will topic, e.g. `homeassistant/status`. */
  statusTopic: string;
  /** Seconds. */
  keepalive: number;
  /** Wait after Home Assistant says `online` before re-publishing state (plus up to 10 %, max 5 s, at random). */
  republishDelayMs: number;
  /**
   * How long to collect retained discovery/device messages at start; stale ones are deleted after
   * that, each account's once all its services completed their first refresh.
   */
  staleSweepMs: number;
  /** MQTT 5 (requests subscribed retain-as-published, so retained requests are recognised), or 4 = 3.1.1. */
  protocolVersion: 4 | 5;
  /** First wait before reconnecting; doubles (with a little jitter) up to `reconnectMaxMs`. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const MQTT_DEFAULTS = {
  url: "mqtt://127.0.0.1:1883",
  rejectUnauthorized: true,
  clientId: "icloud2mqtt",
  baseTopic: "icloud2mqtt",
  discovery: true,
  discoveryPrefix: "homeassistant",
  statusTopic: "homeassistant/status",
  keepalive: 60,
  republishDelayMs: 30_000,
  staleSweepMs: 3_000,
  protocolVersion: 5,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 60_000,
} as const satisfies Partial<MqttFrontendOptions>;

/** Fills every unset option with its default. */
export function withDefaults(options: Partial<MqttFrontendOptions>): MqttFrontendOptions {
  const merged: MqttFrontendOptions = { ...MQTT_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}
