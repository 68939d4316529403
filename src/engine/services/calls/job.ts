import { homedir } from "node:os";
import { isEngineError } from "../../../errors.ts";
import { CloudCallsSource } from "../../../icloud/calls/cloud-source.ts";
import { MacCallsSource } from "../../../icloud/calls/macos-source.ts";
import type { CallkitCall, CallListOptions, CallsSource, NewCallsResult } from "../../../icloud/calls/types.ts";
import type { ServiceTransport } from "../../../icloud/service-transport.ts";
import type { Logger } from "../../../logger.ts";
import type { CallsConfig } from "./config.ts";
import type { CallsState } from "./state.ts";

/**
 * New calls since the stored cursor. The first run only remembers the newest call (no flood of
 * events for old history); later runs report each call once, oldest first. The cursor is stored
 * by the caller after the calls were handed on.
 */
export class CallsJob {
  readonly #source: CallsSource;
  readonly #log: Logger;

  constructor(transport: ServiceTransport, config: CallsConfig, log: Logger) {
    this.#log = log;
    this.#source =
      config.source === "macos"
        ? new MacCallsSource(config.macos_db.replace(/^~(?=$|\/)/, homedir()), { log })
        : new CloudCallsSource(transport, { log });
  }

  async poll(state: CallsState): Promise<{ calls: CallkitCall[]; last: CallkitCall | null; cursor: string }> {
    let first = state.cursor === null;
    let result: NewCallsResult;
    try {
      result = await this.#source.newCalls(state.cursor ?? undefined);
    } catch (error) {
      // A cursor made by the other source (calls.source changed): start over as on a first run.
      if (first || !isEngineError(error, "INVALID_STATE")) throw error;
      this.#log.warn(
        "stored call-history cursor belongs to another source; starting over without announcing old calls",
      );
      first = true;
      result = await this.#source.newCalls(undefined);
    }
    const newest = result.calls.at(-1) ?? null;
    return {
      calls: first ? [] : result.calls,
      last: newest ?? state.last,
      cursor: result.cursor,
    };
  }

  /** Call history, newest first (does not move the cursor). */
  history(options: CallListOptions): Promise<CallkitCall[]> {
    return this.#source.calls(options);
  }

  close(): void {
    this.#source.close?.();
  }
}
