import { z } from "zod";
import { accountField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { CallsRuntime } from "./runtime.ts";

const listCalls = z.strictObject({
  account: accountField,
  since: z.iso.datetime({ offset: true }).optional().describe("Only calls that started after this instant"),
  limit: z.number().int().min(1).max(5000).default(1000).describe("At most this many calls, newest first"),
});

/** Call history's commands. */
export const callsCommands = {
  /** The call history (`callkit.call`), newest first; announces nothing and leaves the polling cursor alone. */
  list_calls: {
    schema: listCalls,
    run: async (runtime, input) => ({
      calls: await runtime.history({
        limit: input.limit,
        ...(input.since === undefined ? {} : { since: input.since }),
      }),
    }),
  } satisfies ServiceCommand<typeof listCalls, CallsRuntime, unknown>,
};
