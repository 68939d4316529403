import { existsSync } from "node:fs";
import { Engine, type EngineApi, type Logger } from "icloud2mqtt/engine";
import { engineAccounts, type PluginConfig } from "./config.ts";
import { describeError } from "./errors.ts";
import { passwordFile } from "./storage.ts";

/** An engine the platform runs on, and how to stop it. */
export interface EngineHandle {
  engine: EngineApi;
  stop(): Promise<void>;
}

/** Makes the platform's engine; the platform's default, replaceable in tests. */
export type EngineFactory = (
  config: PluginConfig,
  dir: string,
  logger: Logger,
  signal: AbortSignal,
) => Promise<EngineHandle>;

/**
 * Embedded mode: the engine in this process on the plugin's storage folder, started (its sign-in
 * runs in the background). An account without a password uses the one the settings UI kept
 * (`passwords/<account>`), if the user asked it to.
 */
export async function embeddedEngine(config: PluginConfig, dir: string, logger: Logger): Promise<EngineHandle> {
  const accounts = engineAccounts(config, dir).map((account) => {
    const kept = passwordFile(dir, account.id);
    const hasPassword = (account.password ?? null) !== null || (account.password_file ?? null) !== null;
    return hasPassword || !existsSync(kept) ? account : { ...account, password_file: kept };
  });
  const engine = new Engine({ accounts, stateDir: dir, logger });
  try {
    await engine.start();
  } catch (error) {
    await engine.stop().catch(() => undefined);
    throw error;
  }
  return { engine, stop: () => engine.stop() };
}

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * Connected mode: a `RemoteEngine` on the running icloud2mqtt's MQTT broker. While the broker or the
 * bridge cannot be reached it tries again (5 s, doubling up to 5 min) until it connects or `signal`
 * aborts (Homebridge shuts down). mqtt.js is only loaded in this mode.
 */
export async function remoteEngine(config: PluginConfig, logger: Logger, signal: AbortSignal): Promise<EngineHandle> {
  const { RemoteEngine } = await import("icloud2mqtt/remote");
  const { url, username, password, base_topic } = config.mqtt;
  if (url === null) throw new Error("mqtt.url is not set");
  let delay = FIRST_RETRY_MS;
  for (;;) {
    signal.throwIfAborted();
    try {
      const engine = await RemoteEngine.connect({
        url,
        baseTopic: base_topic,
        logger,
        ...(username === null ? {} : { username }),
        ...(password === null ? {} : { password }),
      });
      if (signal.aborted) {
        await engine.stop();
        signal.throwIfAborted();
      }
      return { engine, stop: () => engine.stop() };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      logger.warn(`cannot reach icloud2mqtt over MQTT: ${describeError(error)}; trying again in ${delay / 1000} s`);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

export const defaultEngineFactory: EngineFactory = (config, dir, logger, signal) =>
  config.mode === "mqtt" ? remoteEngine(config, logger, signal) : embeddedEngine(config, dir, logger);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", abort, { once: true });
  });
}
