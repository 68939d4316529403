import { z } from "zod";
import { CallkitCallSchema } from "../../../icloud/calls/types.ts";

/** How many recent calls are kept (newest first). */
export const RECENT_CALLS = 10;

/** What the calls service keeps across restarts: the source's cursor, the newest call and the recent ones. */
export const CallsStateSchema = z.object({
  cursor: z.string().nullable().default(null),
  last: CallkitCallSchema.nullable().default(null),
  recent: z.array(CallkitCallSchema).max(RECENT_CALLS).default([]),
});
export type CallsState = z.output<typeof CallsStateSchema>;
