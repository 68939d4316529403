import type { CallkitCall } from "../icloud/calls/types.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import type { IcplAsset } from "../icloud/photos/types.ts";
import type { AccountState } from "./account-state.ts";

export interface LogEntry {
  account: string | null;
  level: "debug" | "info" | "warn" | "error";
  time: number;
  source: string;
  message: string;
}

/**
 * Everything the engine tells its front-ends (MQTT, HTTP, Node-RED, Homebridge).
 * Payloads are plain JSON-able objects in the project's vocabulary; no secrets.
 */
export interface EngineEvents {
  /** Any change of an account's state (also progress updates). */
  "account.state": [AccountState];
  /** A device's data changed (only emitted on change). */
  "device.updated": [{ account: string; device: FmipDevice }];
  /** A device disappeared from the account's Find My list. */
  "device.removed": [{ account: string; deviceId: string }];
  /** A call not seen before (not emitted for the history found on the first run). */
  "call.new": [{ account: string; call: CallkitCall }];
  /** The most recent call changed (also on the first run, without a `call.new`). */
  "call.last": [{ account: string; call: CallkitCall }];
  /** A photo not seen before; `thumbnail` is JPEG bytes when available. */
  "photo.new": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The newest photo of the library changed (also on the first run, without a `photo.new`). */
  "photo.latest": [{ account: string; asset: IcplAsset; thumbnail: Buffer | null }];
  /** The library's asset count changed. */
  "photo.count": [{ account: string; count: number }];
  /** The session needs a code or a choice from the user. */
  "mfa.required": [{ account: string; state: AccountState }];
  /** A sync failed (after retries). */
  "sync.failed": [{ account: string; code: string; message: string }];
  log: [LogEntry];
}
