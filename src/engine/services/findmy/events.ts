import type { FmipDevice } from "../../../icloud/findmy/types.ts";

/** What Find My tells front-ends. */
export type FindMyEvents = {
  /** A device's data changed (only emitted on change). */
  "device.updated": [{ account: string; device: FmipDevice }];
  /**
   * A device disappeared from the account's Find My list (after two refreshes without it); `slug` is the
   * friendly name it had (null when it had none).
   */
  "device.removed": [{ account: string; deviceId: string; slug: string | null }];
};

export interface FindMySnapshot {
  devices: FmipDevice[];
}
