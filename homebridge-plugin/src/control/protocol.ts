import { AccountStateSchema, type CommandName, ERROR_CODES, type ErrorCode } from "icloud2mqtt/engine";
import { z } from "zod";

/**
 * The running plugin's loopback API, which the settings UI server uses to show the plugin's accounts
 * and hand it a code. It listens on 127.0.0.1 on a free port; `control.json` (0600, in the plugin's
 * storage folder) names the port and a random token that every request carries as a bearer token.
 *
 * - `GET /v1/state` → `ControlState`: the accounts, each with its state (no secrets: the account state
 *   front-ends publish).
 * - `POST /v1/execute` with `{command, input}` → `{ok: true, result}` or `{ok: false, error}`; only the
 *   sign-in commands below are accepted.
 */

/** The commands the settings UI may send to the running plugin. */
export const CONTROL_COMMANDS = [
  "mfa",
  "resend_mfa",
  "choice",
  "reauthenticate",
  "sync",
] as const satisfies readonly CommandName[];
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export const ControlFileSchema = z.object({
  port: z.number().int().min(1).max(65_535),
  token: z.string().min(32),
  pid: z.number().int(),
  mode: z.enum(["embedded", "mqtt"]),
});
export type ControlFile = z.infer<typeof ControlFileSchema>;

export const ExecuteRequestSchema = z.strictObject({
  command: z.enum(CONTROL_COMMANDS),
  input: z.record(z.string(), z.unknown()),
});

const codes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];
export const WireErrorSchema = z.object({
  code: z.enum(codes),
  message: z.string(),
  retryable: z.boolean(),
  info: z.record(z.string(), z.unknown()),
});
export type WireError = z.infer<typeof WireErrorSchema>;

export const ExecuteResponseSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: WireErrorSchema }),
]);

/** An account as `GET /v1/state` shows it; `state` is the engine's `AccountState` (parsed by the reader). */
export const ControlAccountSchema = z.object({
  id: z.string(),
  username: z.string(),
  state: AccountStateSchema.pick({ state: true, prevError: true, session: true }),
});
export type ControlAccount = z.infer<typeof ControlAccountSchema>;

export const ControlStateSchema = z.object({
  version: z.string(),
  mode: z.enum(["embedded", "mqtt"]),
  accounts: z.array(ControlAccountSchema),
});
export type ControlState = z.infer<typeof ControlStateSchema>;
