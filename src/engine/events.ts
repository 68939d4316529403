import type { AccountState } from "./account-state.ts";
import type { ServicesEvents } from "./services/types.ts";

export interface LogEntry {
  account: string | null;
  level: "debug" | "info" | "warn" | "error";
  time: number;
  source: string;
  message: string;
}

/** The engine's own events (sign-in, sync, logs). */
export type CoreEvents = {
  /** Any change of an account's state (also progress updates). */
  "account.state": [AccountState];
  /** The session needs a code or a choice from the user. */
  "mfa.required": [{ account: string; state: AccountState }];
  /** A sync or sign-in failed (after retries). */
  "sync.failed": [{ account: string; code: string; message: string }];
  log: [LogEntry];
};

/**
 * Everything the engine tells its front-ends (MQTT, HTTP, Node-RED, Homebridge): its own events plus
 * each service's (`device.updated`, `photo.new`, `call.new`, …; see services/<name>/events.ts).
 * Payloads are plain JSON-able objects in the project's vocabulary (thumbnails are Buffers); no secrets.
 */
export type EngineEvents = CoreEvents & ServicesEvents;
