import type { CommandName } from "../engine/commands.ts";
import type { Logger } from "../logger.ts";
import type { MqttConnection } from "./connection.ts";

/** How long a command may take before it fails with `BRIDGE_TIMEOUT`, unless `timeouts` says otherwise. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/** Sign-in steps wait for Apple (and for `sync`, for every poll of the account) and get longer. */
export const DEFAULT_TIMEOUTS: Partial<Record<CommandName, number>> = {
  mfa: 120_000,
  resend_mfa: 120_000,
  choice: 120_000,
  reauthenticate: 120_000,
  sync: 600_000,
};

export interface RemoteEngineOptions {
  /** The connection to the broker the bridge uses (see `mqttJsConnection`). */
  connection: MqttConnection;
  /** The bridge's `mqtt.base_topic`. Default `icloud2mqtt`. */
  baseTopic?: string;
  logger?: Logger;
  /** How long `start()` waits for the broker, `bridge/info` and every account's state. Default 10 s. */
  startTimeoutMs?: number;
  /** Default timeout of a command. Default 30 s. */
  commandTimeoutMs?: number;
  /** Timeouts per command (defaults: sign-in steps 2 min, `sync` 10 min). */
  timeouts?: Partial<Record<CommandName, number>>;
  /**
   * After a (re)connect the bridge's retained `bridge/state` comes again; a command issued meanwhile
   * waits this long for it before failing with `BRIDGE_OFFLINE`. Default 2 s.
   */
  settleMs?: number;
}

/** `RemoteEngine.connect`: the engine's options plus the broker to connect to (mqtt.js). */
export interface RemoteConnectOptions extends Omit<RemoteEngineOptions, "connection"> {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…`, `wss://…`. User info in it is never logged. */
  url: string;
  username?: string;
  /** Never logged. */
  password?: string;
  /** Default `icloud2mqtt-remote-<random>`; must differ from the bridge's own client id. */
  clientId?: string;
  /** PEM contents (not paths) for TLS. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true. */
  rejectUnauthorized?: boolean;
  /** Seconds. Default 60. */
  keepalive?: number;
  /** Wait between reconnect attempts. Default 2 s. */
  reconnectPeriodMs?: number;
}
