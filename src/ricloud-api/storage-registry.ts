import { EngineError } from "../errors.ts";
import type { StorageConfig } from "./records.ts";
import { ORGANISATION_ID } from "./resources.ts";
import { backendFor, defaultResultsDir, type StorageBackend } from "./storage.ts";
import type { ApiStore } from "./store.ts";
import { isoNow } from "./time.ts";

/**
 * The storage configs' backends. A `local://` config for `<state_dir>/ricloud/results` is created on
 * first start and made the organisation's default, so results work without any setup.
 */
export class StorageRegistry {
  readonly #stateDir: string;
  readonly #store: ApiStore;

  constructor(stateDir: string, store: ApiStore) {
    this.#stateDir = stateDir;
    this.#store = store;
  }

  /** Creates the default local storage config unless the API has ever had a storage config. */
  async ensureDefault(): Promise<void> {
    const s = this.#store.state;
    if (s.storage_configs.length > 0 || (s.counters["storage_config"] ?? 0) > 0) return;
    const config: StorageConfig = {
      id: this.#store.nextId("storage_config"),
      resource: "storage_config",
      organisation: ORGANISATION_ID,
      type: "local",
      url: `local://${defaultResultsDir(this.#stateDir)}`,
      state: "new",
      date_created: isoNow(),
      _credentials: null,
    };
    await this.backend(config).test();
    config.state = "valid";
    s.storage_configs.push(config);
    s.organisation.storage_config_default = config.id;
    this.#store.changed();
  }

  backend(config: StorageConfig): StorageBackend {
    return backendFor(this.#stateDir, config);
  }

  /** The key's storage config, else the organisation's default; it must be valid. */
  forKey(key: string): { backend: StorageBackend; config: string } {
    const s = this.#store.state;
    const id = s.keys[key]?.storage_config ?? s.organisation.storage_config_default;
    const config = s.storage_configs.find((candidate) => candidate.id === id);
    if (config === undefined || config.state !== "valid")
      throw new EngineError("CONFIG_INVALID", "no valid storage config for this key (see /configs/storage)");
    return { backend: this.backend(config), config: config.id };
  }

  /** The backend a result was stored with, when its config still exists. */
  forResult(configId: string): StorageBackend | undefined {
    const config = this.#store.state.storage_configs.find((candidate) => candidate.id === configId);
    return config === undefined ? undefined : this.backend(config);
  }
}
