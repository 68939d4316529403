import type { CallkitCall } from "../../../icloud/calls/types.ts";

/** What the calls service tells front-ends. */
export type CallsEvents = {
  /** A call not seen before (not emitted for the history found on the first run). */
  "call.new": [{ account: string; call: CallkitCall }];
  /** The most recent call changed (also on the first run, without a `call.new`). */
  "call.last": [{ account: string; call: CallkitCall }];
};

export interface CallsSnapshot {
  last: CallkitCall | null;
  /** The latest calls, newest first (at most 10; the history found on the first run adds only its newest). */
  recent: CallkitCall[];
}
