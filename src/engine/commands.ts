import { z } from "zod";
import type { AccountState } from "./account-state.ts";
import { accountField } from "./command-fields.ts";
import { SERVICES } from "./services/registry.ts";
import type { DataType, ServiceCommandDefs } from "./services/types.ts";

/**
 * Every command a front-end can issue, as one zod schema each: the engine's own (sign-in and sync)
 * plus those of the services (e.g. Find My's `locate`). MQTT (`bridge/request/<name>`), HTTP,
 * Node-RED and Homebridge all parse their input with these, so the same payload means the same
 * thing everywhere. `account` may be left out when the engine has one account.
 */

export const DATA_TYPES = SERVICES.map((service) => service.dataType) as readonly DataType[];
export const DataTypeSchema = z.enum(DATA_TYPES as [DataType, ...DataType[]]);
export type { DataType } from "./services/types.ts";

const CORE_COMMAND_SCHEMAS = {
  mfa: z.strictObject({
    account: accountField,
    // 6 digits for two-factor, 4 for legacy two-step; the session enforces the exact length.
    code: z.string().regex(/^\d{4,8}$/, "code must be 4 to 8 digits"),
  }),
  resend_mfa: z.strictObject({
    account: accountField,
    method: z.enum(["device", "sms", "voice"]),
    phone_number_id: z.number().int().positive().optional(),
  }),
  choice: z.strictObject({ account: accountField, choice: z.string().min(1).max(200) }),
  sync: z.strictObject({ account: accountField, data_types: z.array(DataTypeSchema).min(1).optional() }),
  reauthenticate: z.strictObject({ account: accountField }),
} as const;

type CoreCommandName = keyof typeof CORE_COMMAND_SCHEMAS;
type ServiceCommandSchemas = { [K in keyof ServiceCommandDefs]: ServiceCommandDefs[K]["schema"] };

function serviceCommandSchemas(): ServiceCommandSchemas {
  const schemas: Record<string, z.ZodType> = {};
  for (const service of SERVICES) {
    for (const [name, command] of Object.entries(service.commands)) {
      if (Object.hasOwn(CORE_COMMAND_SCHEMAS, name) || Object.hasOwn(schemas, name))
        throw new Error(`command ${name} of service ${service.key} is defined twice`);
      schemas[name] = command.schema;
    }
  }
  return schemas as ServiceCommandSchemas;
}

export const COMMAND_SCHEMAS: typeof CORE_COMMAND_SCHEMAS & ServiceCommandSchemas = {
  ...CORE_COMMAND_SCHEMAS,
  ...serviceCommandSchemas(),
};

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export type CommandInput<C extends CommandName> = z.input<(typeof COMMAND_SCHEMAS)[C]>;
export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SCHEMAS, name);
}

export function isCoreCommand(name: CommandName): name is CoreCommandName {
  return Object.hasOwn(CORE_COMMAND_SCHEMAS, name);
}

/** Where a sign-in step left the session (never a secret). */
export interface SessionOutcome {
  session: "pending" | "active" | "failed" | "expired";
  /** ricloud's session error (`code-required`, `choice-required`, …), null when none. */
  error: string | null;
  /** What the session waits for from the user. */
  awaiting: "code" | "choice" | null;
}

interface CoreCommandResults {
  mfa: SessionOutcome;
  resend_mfa: SessionOutcome;
  choice: SessionOutcome;
  reauthenticate: SessionOutcome;
  sync: { state: AccountState["state"] };
}
type ServiceCommandResults = {
  [K in keyof ServiceCommandDefs]: Awaited<ReturnType<ServiceCommandDefs[K]["run"]>>;
};

/** What `execute(command, …)` resolves with, per command. */
export type CommandResults = CoreCommandResults & ServiceCommandResults;
export type CommandResult<C extends CommandName> = CommandResults[C];
