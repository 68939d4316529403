import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Config } from "./config/schema.ts";
import { Engine } from "./engine/engine.ts";
import { BridgeError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { type EmbeddedBroker, startEmbeddedBroker } from "./mqtt/embedded-broker.ts";
import { MqttBridge } from "./mqtt/mqtt-bridge.ts";

export interface RunningBridge {
  engine: Engine;
  mqtt: MqttBridge;
  /** Set when no `mqtt.url` was configured. */
  broker: EmbeddedBroker | undefined;
  /** URL of the web UI / HTTP API, when enabled. */
  httpUrl: string | undefined;
  stop(): Promise<void>;
}

export interface StartBridgeOptions {
  config: Config;
  logger: Logger;
  /** Test and demo knobs for the MQTT front-end. */
  mqtt?: { republishDelayMs?: number; staleSweepMs?: number };
}

/**
 * Starts the whole bridge from a validated configuration: the embedded broker when no MQTT url is
 * set, the engine, the MQTT front-end and the HTTP server. `stop()` shuts down in reverse order and
 * publishes `offline` before disconnecting.
 */
export async function startBridge(options: StartBridgeOptions): Promise<RunningBridge> {
  const { config, logger } = options;
  let broker: EmbeddedBroker | undefined;
  let url = config.mqtt.url;
  if (url === null) {
    const { host, port } = config.mqtt.embedded_broker;
    try {
      broker = await startEmbeddedBroker({ host, port, logger });
    } catch (error) {
      throw new BridgeError(
        "CONFIG_INVALID",
        `cannot start the embedded MQTT broker on ${host}:${port}; set mqtt.url or mqtt.embedded_broker.port`,
        { cause: error },
      );
    }
    url = broker.url;
    logger.info(`embedded MQTT broker listening at ${broker.url}`);
  }
  const engine = new Engine({ config, logger });
  const mqtt = new MqttBridge({
    api: engine,
    logger,
    options: {
      url,
      ...(config.mqtt.username === null ? {} : { username: config.mqtt.username }),
      ...(config.mqtt.password === null ? {} : { password: config.mqtt.password }),
      ...(await tlsFiles(config)),
      rejectUnauthorized: config.mqtt.reject_unauthorized,
      clientId: config.mqtt.client_id ?? `icloud2mqtt_${randomBytes(4).toString("hex")}`,
      baseTopic: config.mqtt.base_topic,
      discovery: config.mqtt.discovery,
      discoveryPrefix: config.mqtt.discovery_prefix,
      statusTopic: config.mqtt.status_topic,
      keepalive: config.mqtt.keepalive,
      ...options.mqtt,
    },
  });
  await engine.load();
  await mqtt.start();
  await engine.start();
  const http = await startHttp(config, engine, logger);
  return {
    engine,
    mqtt,
    broker,
    httpUrl: http?.url,
    async stop() {
      await http?.stop();
      await engine.stop();
      await mqtt.stop();
      await broker?.close();
    },
  };
}

async function tlsFiles(config: Config): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const key of ["ca", "cert", "key"] as const) {
    const path = config.mqtt[key];
    if (path === null) continue;
    try {
      out[key] = await readFile(path);
    } catch (error) {
      throw new BridgeError("CONFIG_INVALID", `mqtt.${key}: cannot read ${path}`, { cause: error });
    }
  }
  return out;
}

/** The HTTP server, loaded only when enabled. */
async function startHttp(
  config: Config,
  engine: Engine,
  logger: Logger,
): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  if (!config.http.enabled) return undefined;
  const { startHttpServer } = await import("./http/index.ts");
  return startHttpServer({ api: engine, config: config.http, push: config.push, stateDir: config.state_dir, logger });
}
