import { z } from "zod";
import { AccountStateSchema } from "../engine/account-state.ts";
import type { CommandResults } from "../engine/commands.ts";
import type { LoadedMqttView } from "../mqtt/service-views.ts";

const SessionOutcomeSchema = z.object({
  session: z.enum(["pending", "active", "failed", "expired"]),
  error: z.string().nullable(),
  awaiting: z.enum(["code", "choice"]).nullable(),
});

type CoreResultName = "mfa" | "resend_mfa" | "choice" | "reauthenticate" | "sync";

const CORE_RESULTS: { [K in CoreResultName]: z.ZodType<CommandResults[K]> } = {
  mfa: SessionOutcomeSchema,
  resend_mfa: SessionOutcomeSchema,
  choice: SessionOutcomeSchema,
  reauthenticate: SessionOutcomeSchema,
  sync: z.object({ state: AccountStateSchema.shape.state }),
};

/** How each command's result is parsed when it comes back over MQTT: the engine's own plus the services'. */
export function resultSchemas(views: readonly LoadedMqttView[]): ReadonlyMap<string, z.ZodType> {
  const schemas = new Map<string, z.ZodType>(Object.entries(CORE_RESULTS));
  for (const { view } of views) {
    for (const [command, schema] of Object.entries(view.remote.results)) schemas.set(command, schema);
  }
  return schemas;
}
