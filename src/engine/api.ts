import type { CallkitCall } from "../icloud/calls/types.ts";
import type { FmipDevice } from "../icloud/findmy/types.ts";
import type { IcplAsset } from "../icloud/photos/types.ts";
import type { AccountState } from "./account-state.ts";
import type { CommandInput, CommandName } from "./commands.ts";
import type { EventBus } from "./event-bus.ts";
import type { EngineEvents, LogEntry } from "./events.ts";

export interface AccountSummary {
  id: string;
  /** The Apple ID, for display. */
  username: string;
  services: { findmy: boolean; photos: boolean; calls: boolean };
}

/** The last values the engine knows per account, for front-ends that start late or restart. */
export interface AccountSnapshot {
  state: AccountState;
  devices: FmipDevice[];
  lastCall: CallkitCall | null;
  latestPhoto: { asset: IcplAsset; thumbnail: Buffer | null } | null;
  photoCount: number | null;
}

/**
 * The one public API every front-end uses: subscribe to `bus`, read snapshots, run commands.
 * `execute` resolves with the command's data or rejects with a EngineError (mapped once per
 * front-end to its wire format).
 */
export interface EngineApi {
  readonly bus: EventBus<EngineEvents>;
  readonly version: string;
  accounts(): AccountSummary[];
  snapshot(account?: string): AccountSnapshot;
  logs(account: string | undefined, minLevel: LogEntry["level"]): LogEntry[];
  execute<C extends CommandName>(command: C, input: CommandInput<C>): Promise<unknown>;
}
