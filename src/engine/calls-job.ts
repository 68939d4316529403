import { homedir } from "node:os";
import type { CallsConfig } from "../config/account-schema.ts";
import { CloudCallHistorySource } from "../icloud/calls/cloud-source.ts";
import { MacCallHistorySource } from "../icloud/calls/macos-source.ts";
import type { CallHistorySource, CallkitCall } from "../icloud/calls/types.ts";
import type { ServiceTransport } from "../icloud/service-transport.ts";
import type { Logger } from "../logger.ts";
import type { EngineState } from "./state-store.ts";

/**
 * New calls since the stored cursor. The first run only remembers the newest call (no flood of
 * events for old history); later runs report each call once, oldest first. The cursor is stored
 * by the caller after the calls were handed on.
 */
export class CallsJob {
  readonly #source: CallHistorySource;

  constructor(transport: ServiceTransport, config: CallsConfig, log: Logger) {
    this.#source =
      config.source === "macos"
        ? new MacCallHistorySource(config.macos_db.replace(/^~(?=$|\/)/, homedir()))
        : new CloudCallHistorySource(transport, { log });
  }

  async poll(state: EngineState): Promise<{ calls: CallkitCall[]; last: CallkitCall | null; cursor: string }> {
    const first = state.calls.cursor === null;
    const result = await this.#source.newCalls(state.calls.cursor ?? undefined);
    const newest = result.calls.at(-1) ?? null;
    return {
      calls: first ? [] : result.calls,
      last: newest ?? (state.calls.last as CallkitCall | null),
      cursor: result.cursor,
    };
  }

  close(): void {
    this.#source.close?.();
  }
}
