import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { API, Logging, PlatformAccessory, PlatformConfig } from "homebridge";
import initialize from "../../src/index.ts";
import type { ICloudPlatform, PlatformDeps } from "../../src/platform.ts";

const require = createRequire(import.meta.url);

/** The Homebridge releases the plugin is tested with (devDependencies `homebridge` and `homebridge-1`). */
export const HOMEBRIDGE_PACKAGES = [
  { label: "Homebridge 1.11", name: "homebridge-1", lib: "lib" },
  { label: "Homebridge 2", name: "homebridge", lib: "dist" },
] as const;
export type HomebridgePackage = (typeof HOMEBRIDGE_PACKAGES)[number];

interface HomebridgeModules {
  version: string;
  HomebridgeAPI: new () => API & {
    signalFinished(): void;
    signalShutdown(): void;
    on(event: string, listener: (...args: never[]) => void): unknown;
  };
  PlatformAccessory: {
    serialize(accessory: PlatformAccessory): unknown;
    deserialize(json: unknown): PlatformAccessory;
  };
  User: { setStoragePath(...path: string[]): void };
}

/** A Homebridge release's real API, accessory and user classes (deep imports by file, as its exports allow). */
export async function loadHomebridge(pkg: HomebridgePackage): Promise<HomebridgeModules> {
  // The package's main file is <root>/<lib>/index.js (its exports allow nothing else).
  const root = dirname(dirname(require.resolve(pkg.name)));
  const load = async (file: string) =>
    (await import(pathToFileURL(join(root, pkg.lib, file)).href)) as Record<string, unknown>;
  const [api, accessory, user] = await Promise.all([load("api.js"), load("platformAccessory.js"), load("user.js")]);
  const version = (require(join(root, "package.json")) as { version: string }).version;
  const pick = <T>(module: Record<string, unknown>, name: string): T =>
    (module[name] ?? (module["default"] as Record<string, unknown> | undefined)?.[name]) as T;
  return {
    version,
    HomebridgeAPI: pick(api, "HomebridgeAPI"),
    PlatformAccessory: pick(accessory, "PlatformAccessory"),
    User: pick(user, "User"),
  };
}

/** A Homebridge log that keeps its lines (and is silent). */
export function captureLog(): Logging & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  const log = Object.assign((message: string) => at("info")(message), {
    prefix: "iCloud2MQTT",
    lines,
    info: at("info"),
    success: at("info"),
    warn: at("warn"),
    error: at("error"),
    debug: at("debug"),
    log: (level: string, message: string) => at(level)(message),
  });
  return log as unknown as Logging & { lines: string[] };
}

/** One plugin instance on a real HomebridgeAPI, as Homebridge runs it (minus HAP's server). */
export interface Instance {
  api: InstanceType<HomebridgeModules["HomebridgeAPI"]>;
  platform: ICloudPlatform;
  log: ReturnType<typeof captureLog>;
  registered: PlatformAccessory[];
  unregistered: PlatformAccessory[];
  updated: PlatformAccessory[];
}

/**
 * Loads the plugin into a fresh HomebridgeAPI (its default export registers the platform), builds the
 * platform from `config`, hands it `cached` accessories like Homebridge's cache, and signals launch.
 */
export async function startInstance(
  hb: HomebridgeModules,
  config: Record<string, unknown>,
  cached: PlatformAccessory[] = [],
  deps: PlatformDeps = {},
  awaitLaunch = true,
): Promise<Instance> {
  const api = new hb.HomebridgeAPI();
  const registered: PlatformAccessory[] = [];
  const unregistered: PlatformAccessory[] = [];
  const updated: PlatformAccessory[] = [];
  let Platform:
    | (new (
        log: Logging,
        config: PlatformConfig,
        api: API,
        deps?: PlatformDeps,
      ) => ICloudPlatform)
    | undefined;
  api.on("registerPlatform", ((_name: string, registered: typeof Platform) => {
    Platform = registered;
  }) as never);
  api.on("registerPlatformAccessories", ((accessories: PlatformAccessory[]) =>
    registered.push(...accessories)) as never);
  api.on("unregisterPlatformAccessories", ((accessories: PlatformAccessory[]) =>
    unregistered.push(...accessories)) as never);
  api.on("updatePlatformAccessories", ((accessories: PlatformAccessory[]) => updated.push(...accessories)) as never);
  initialize(api);
  if (Platform === undefined) throw new Error("the plugin registered no platform");
  const log = captureLog();
  const platform = new Platform(log, { platform: "iCloud2MQTT", ...config } as PlatformConfig, api, deps);
  for (const accessory of cached) platform.configureAccessory(accessory);
  api.signalFinished();
  if (awaitLaunch) await platform.launched();
  return { api, platform, log, registered, unregistered, updated };
}
