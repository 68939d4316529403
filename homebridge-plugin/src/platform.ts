import type { API, DynamicPlatformPlugin, Logging, PlatformAccessory, PlatformConfig } from "homebridge";
import { Timers } from "./accessories/kit.ts";
import { isConfigured, type PluginConfig, PluginConfigError, parsePluginConfig } from "./config.ts";
import { type ControlServer, startControlServer } from "./control/control-server.ts";
import { defaultEngineFactory, type EngineFactory, type EngineHandle } from "./engine-source.ts";
import { describeError } from "./errors.ts";
import { HomeKit } from "./homekit.ts";
import { homebridgeLogger } from "./logger.ts";
import { ensureDir, pluginDir } from "./storage.ts";

/** Test seams (Homebridge passes only the first three arguments). */
export interface PlatformDeps {
  createEngine?: EngineFactory;
}

/**
 * The dynamic platform. It does nothing until configured (the `{"platform": "iCloud2MQTT"}` alone
 * only logs a hint). Configured, it starts its engine after Homebridge finished launching (embedded,
 * or connected to a running icloud2mqtt over MQTT), keeps the accessories current, and serves the
 * sign-in commands to the settings UI on loopback. Every failure is caught and logged; shutdown stops
 * the engine and closes every socket and timer so Homebridge exits promptly.
 */
export class ICloudPlatform implements DynamicPlatformPlugin {
  readonly #log: Logging;
  readonly #api: API;
  readonly #cached: PlatformAccessory[] = [];
  readonly #config: PluginConfig | undefined;
  readonly #createEngine: EngineFactory;
  readonly #abort = new AbortController();
  readonly #timers = new Timers();
  #engine: EngineHandle | undefined;
  #homekit: HomeKit | undefined;
  #control: ControlServer | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(log: Logging, config: PlatformConfig, api: API, deps: PlatformDeps = {}) {
    this.#log = log;
    this.#api = api;
    this.#createEngine = deps.createEngine ?? defaultEngineFactory;
    this.#config = this.#parse(config);
    api.on("didFinishLaunching", () => {
      this.#running = this.#launch().catch((error: unknown) => {
        if (!this.#abort.signal.aborted) log.error(`could not start: ${describeError(error)}`);
      });
    });
    api.on("shutdown", () => {
      void this.shutdown();
    });
  }

  #parse(config: PlatformConfig): PluginConfig | undefined {
    try {
      const parsed = parsePluginConfig(config);
      if (!isConfigured(parsed)) {
        this.#log.info(
          parsed.mode === "mqtt"
            ? "not configured yet: set the MQTT broker's URL (mqtt.url) in the plugin's settings"
            : "not configured yet: add an iCloud account in the plugin's settings and sign in there",
        );
        return undefined;
      }
      return parsed;
    } catch (error) {
      const detail = error instanceof PluginConfigError ? error.message : describeError(error);
      this.#log.error(`the configuration is invalid, so the plugin does nothing: ${detail}`);
      return undefined;
    }
  }

  /** Homebridge restores each cached accessory before `didFinishLaunching`. */
  configureAccessory(accessory: PlatformAccessory): void {
    this.#cached.push(accessory);
  }

  /** The accessories in use (tests). */
  get accessories(): PlatformAccessory[] {
    return this.#homekit?.accessories ?? [];
  }

  /** Resolves when the launch (engine started, accessories published) finished or failed. */
  async launched(): Promise<void> {
    await this.#running;
  }

  async #launch(): Promise<void> {
    const config = this.#config;
    if (config === undefined) return;
    const dir = await ensureDir(pluginDir(this.#api.user.storagePath()));
    const logger = homebridgeLogger(this.#log);
    const signal = this.#abort.signal;
    const handle = await this.#createEngine(config, dir, logger, signal);
    if (signal.aborted) {
      await handle.stop();
      return;
    }
    this.#engine = handle;
    const homekit = new HomeKit(
      { api: this.#api, log: this.#log, options: config, engine: handle.engine, timers: this.#timers },
      this.#cached,
    );
    this.#homekit = homekit;
    homekit.start();
    this.#log.info(
      `${homekit.accessories.length} accessories for ${handle.engine.accounts().length} account(s) (${config.mode} mode)`,
    );
    this.#control = await startControlServer({ engine: handle.engine, dir, mode: config.mode });
    if (signal.aborted) await this.#control.close();
  }

  /** Stops everything the platform started (Homebridge's `shutdown`; idempotent). */
  shutdown(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#abort.abort(new Error("Homebridge is shutting down"));
    this.#homekit?.stop();
    this.#timers.clear();
    await this.#running;
    const results = await Promise.allSettled([this.#control?.close(), this.#engine?.stop()]);
    for (const result of results)
      if (result.status === "rejected") this.#log.warn(`shutdown: ${describeError(result.reason)}`);
  }
}
