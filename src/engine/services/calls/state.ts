import { z } from "zod";
import { CallkitCallSchema } from "../../../icloud/calls/types.ts";

/** What the calls service keeps across restarts: the source's cursor and the newest call published. */
export const CallsStateSchema = z.object({
  cursor: z.string().nullable().default(null),
  last: CallkitCallSchema.nullable().default(null),
});
export type CallsState = z.output<typeof CallsStateSchema>;
