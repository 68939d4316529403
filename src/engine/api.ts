import type { AccountState } from "./account-state.ts";
import type { CommandInput, CommandName, CommandResult } from "./commands.ts";
import type { EventBus } from "./event-bus.ts";
import type { EngineEvents, LogEntry } from "./events.ts";
import type { ServiceKey, ServiceSnapshots } from "./services/types.ts";

export interface AccountSummary {
  id: string;
  /** The Apple ID, for display. */
  username: string;
  /** Which services this account uses. */
  services: Record<ServiceKey, boolean>;
}

/**
 * The last values the engine knows about an account, for front-ends that start late or restart:
 * its state plus one snapshot per service (`findmy.devices`, `photos.latest`, `calls.last`, …).
 */
export type AccountSnapshot = { state: AccountState } & ServiceSnapshots;

/**
 * The one API every front-end uses, whether the engine runs in the same process (`Engine`) or in a
 * running icloud2mqtt reached over MQTT (`RemoteEngine`): subscribe to `bus`, read snapshots, run
 * commands. `execute` parses its input with the command's schema, resolves with the command's typed
 * result, or rejects with an `EngineError` (mapped once per front-end to its wire format).
 */
export interface EngineApi {
  readonly bus: EventBus<EngineEvents>;
  readonly version: string;
  accounts(): AccountSummary[];
  snapshot(account?: string): AccountSnapshot;
  logs(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[];
  execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<CommandResult<C>>;
}
