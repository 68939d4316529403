import type { EngineApi } from "../engine/api.ts";

/**
 * How one data type appears in the ricloud-compatible API. Lives in the service's folder
 * (`ricloud.ts`), loaded only by that front-end. Everything goes through `api.execute`, so the engine's
 * checks and limits apply to API polls as they do to MQTT and HTTP requests.
 */

/** A data poll's `payload.filters` (ricloud documents `since`/`until` for dated data types), validated ISO 8601. */
export interface RicloudFilters {
  since?: string;
  until?: string;
}

/**
 * A file the engine fetched for a `files` poll: a local file the API copies into its result storage
 * (large files: photos), or its bytes (small ones: contact photos, note attachments).
 */
export type RicloudFile =
  | {
      /** Absolute path on this machine (the engine's file cache). */
      path: string;
      size: number;
      /** Lower-case extension without the dot (`heic`, `mov`, `jpg`). */
      extension: string;
    }
  | { data: Buffer; size: number; extension: string };

/** The files a data type's items reference (`icpl://…`), fetched later by a `files` poll. */
export interface RicloudFileSource {
  /** The id scheme, e.g. `icpl` for `icpl://…`. */
  readonly scheme: string;
  /** The file ids an item references, each with what `fetch` needs later (JSON, kept by the API). */
  refs(item: unknown): Array<{ id: string; ref: unknown }>;
  fetch(api: EngineApi, account: string, id: string, ref: unknown): Promise<RicloudFile>;
}

export interface RicloudServiceView {
  /** The items of a data poll, in the data type's vocabulary (the values MQTT publishes). */
  items(api: EngineApi, account: string, filters: RicloudFilters): Promise<unknown[]>;
  readonly files?: RicloudFileSource;
}
