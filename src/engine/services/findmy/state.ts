import { z } from "zod";
import { FmipDeviceSchema } from "../../../icloud/findmy/types.ts";

/** What Find My keeps across restarts: the devices as last published (keyed by Apple's device id). */
export const FindMyStateSchema = z.object({
  devices: z.record(z.string(), FmipDeviceSchema).default({}),
});
export type FindMyState = z.output<typeof FindMyStateSchema>;

/** State files written before services had their own sections kept the devices at the top level. */
export function legacyFindMyState(root: Record<string, unknown>): unknown {
  return root["devices"] === undefined ? undefined : { devices: root["devices"] };
}
