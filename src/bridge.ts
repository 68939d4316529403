import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Config } from "./config/schema.ts";
import { Engine } from "./engine/engine.ts";
import { EngineError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { EmbeddedBroker } from "./mqtt/embedded-broker.ts";
import { MqttFrontend, type MqttFrontendConfig } from "./mqtt/mqtt-frontend.ts";

export interface RunningBridge {
  engine: Engine;
  mqtt: MqttFrontend;
  /** Set when no `mqtt.url` was configured. */
  broker: EmbeddedBroker | undefined;
  /** URL of the web UI / HTTP API, when enabled. */
  httpUrl: string | undefined;
  /** URL of the ricloud-compatible API, when enabled. */
  ricloudUrl?: string | undefined;
  stop(): Promise<void>;
}

export interface StartBridgeOptions {
  config: Config;
  logger: Logger;
  /** Test and demo knobs for the MQTT front-end. */
  mqtt?: { republishDelayMs?: number; staleSweepMs?: number; reconnectMinMs?: number; reconnectMaxMs?: number };
}

/**
 * Starts the whole bridge from a validated configuration: the embedded broker when no MQTT url is
 * set, the MQTT front-end, the HTTP server, then the engine. Optional pieces (the embedded broker,
 * the HTTP server with web push, the ricloud-compatible API) are loaded only when configured. A broker that is not reachable yet is
 * waited for in the background (the engine starts meanwhile); one that refuses the bridge
 * (credentials, TLS) fails the start. If a step fails, what was started is stopped again before
 * the error is thrown. `stop()` shuts down in reverse order and publishes `offline` before disconnecting.
 */
export async function startBridge(options: StartBridgeOptions): Promise<RunningBridge> {
  const { config, logger } = options;
  // Everything that can fail on a busy port or a bad broker starts before the engine signs in:
  // a bridge that reports a failure must not go on to sign in to iCloud (that e-mails the user).
  const started: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of started.splice(0).reverse()) {
      await stop().catch((error: unknown) =>
        logger.warn("shutdown step failed", { error: error instanceof Error ? error.message : String(error) }),
      );
    }
  };
  try {
    const broker = config.mqtt.url === null ? await startBroker(config, logger) : undefined;
    if (broker) started.push(() => broker.close());
    const engine = new Engine({ accounts: config.accounts, stateDir: config.state_dir, logger });
    await engine.load();
    const mqtt = new MqttFrontend({
      api: engine,
      logger,
      stateDir: config.state_dir,
      options: await mqttOptions(config, broker, options),
    });
    await mqtt.start();
    started.push(() => mqtt.stop());
    const http = await startHttp(config, engine, logger);
    if (http) started.push(() => http.stop());
    const ricloud = await startRicloud(config, engine, logger);
    if (ricloud) started.push(() => ricloud.stop());
    started.push(() => engine.stop());
    await engine.start();
    return { engine, mqtt, broker, httpUrl: http?.url, ricloudUrl: ricloud?.url, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The embedded broker (aedes), loaded only when no `mqtt.url` is configured. */
async function startBroker(config: Config, logger: Logger): Promise<EmbeddedBroker> {
  const { host, port } = config.mqtt.embedded_broker;
  const { startEmbeddedBroker } = await import("./mqtt/embedded-broker.ts");
  try {
    const broker = await startEmbeddedBroker({ host, port, logger, baseTopic: config.mqtt.base_topic });
    logger.info(`embedded MQTT broker listening at ${broker.url}`);
    return broker;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EngineError("CONFIG_INVALID", `cannot start the embedded MQTT broker on ${host}:${port} (${reason})`, {
      cause: error,
      info: { key: "mqtt.embedded_broker.port" },
    });
  }
}

async function mqttOptions(
  config: Config,
  broker: EmbeddedBroker | undefined,
  options: StartBridgeOptions,
): Promise<MqttFrontendConfig["options"]> {
  return {
    url: broker?.url ?? config.mqtt.url ?? "",
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
    // The embedded broker (aedes) speaks MQTT 3.1.1 and refuses retained requests itself.
    ...(broker === undefined ? {} : { protocolVersion: 4 as const }),
    ...options.mqtt,
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
      throw new EngineError("CONFIG_INVALID", `mqtt.${key}: cannot read ${path}`, { cause: error });
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

/** The ricloud-compatible API, loaded only when enabled. */
async function startRicloud(
  config: Config,
  engine: Engine,
  logger: Logger,
): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  if (!config.ricloud_api.enabled) return undefined;
  const { passwordVerifier, startRicloudApi } = await import("./ricloud-api/index.ts");
  return startRicloudApi({
    api: engine,
    config: config.ricloud_api,
    stateDir: config.state_dir,
    verifyPassword: passwordVerifier(config.accounts),
    logger,
  });
}
