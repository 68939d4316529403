import { z } from "zod";

/**
 * Every command a front-end can issue, as one zod schema each. MQTT (`bridge/request/<name>`),
 * HTTP, Node-RED and Homebridge all parse their input with these, so the same payload means
 * the same thing everywhere. `account` may be left out when the bridge has one account.
 */
const account = z.string().min(1).max(64).optional().describe("Account id from the configuration");
const device = z.string().min(1).max(200).describe("Device id or name");

export const DATA_TYPES = ["fmip.devices", "icpl.photos", "callkit.calls"] as const;
export const DataTypeSchema = z.enum(DATA_TYPES);
export type DataType = z.infer<typeof DataTypeSchema>;

export const COMMAND_SCHEMAS = {
  mfa: z.strictObject({
    account,
    // 6 digits for two-factor, 4 for legacy two-step; the session enforces the exact length.
    code: z.string().regex(/^\d{4,8}$/, "code must be 4 to 8 digits"),
  }),
  resend_mfa: z.strictObject({
    account,
    method: z.enum(["device", "sms", "voice"]),
    phone_number_id: z.number().int().positive().optional(),
  }),
  choice: z.strictObject({ account, choice: z.string().min(1).max(200) }),
  sync: z.strictObject({ account, data_types: z.array(DataTypeSchema).min(1).optional() }),
  reauthenticate: z.strictObject({ account }),
  locate: z.strictObject({ account, device: device.optional() }),
  play_sound: z.strictObject({ account, device, subject: z.string().max(200).optional() }),
  send_message: z.strictObject({
    account,
    device,
    text: z.string().min(1).max(500),
    subject: z.string().max(200).optional(),
    sound: z.boolean().optional(),
  }),
  lost_mode: z.strictObject({
    account,
    device,
    text: z.string().max(500).optional(),
    phone_number: z.string().max(40).optional(),
    passcode: z
      .string()
      .regex(/^\d{4,6}$/)
      .optional(),
  }),
} as const;

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export type CommandInput<C extends CommandName> = z.infer<(typeof COMMAND_SCHEMAS)[C]>;
export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SCHEMAS, name);
}
