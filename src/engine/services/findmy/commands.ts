import { z } from "zod";
import { accountField, deviceField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { FindMyRuntime } from "./runtime.ts";

const listDevices = z.strictObject({ account: accountField });
const locate = z.strictObject({ account: accountField, device: deviceField.optional() });
const playSound = z.strictObject({
  account: accountField,
  device: deviceField,
  subject: z.string().max(200).optional(),
});
const sendMessage = z.strictObject({
  account: accountField,
  device: deviceField,
  text: z.string().min(1).max(500),
  subject: z.string().max(200).optional(),
  sound: z.boolean().optional(),
});
const lostMode = z.strictObject({
  account: accountField,
  device: deviceField,
  text: z.string().max(500).optional(),
  phone_number: z.string().max(40).optional(),
  passcode: z
    .string()
    .regex(/^\d{4,6}$/)
    .optional(),
});

const LOST_MODE_TEXT = "This device has been lost. Please call the owner.";

/** Find My's commands: locate wakes only the device asked for (or the configured ones); actions are never replayed. */
export const findMyCommands = {
  locate: {
    schema: locate,
    run: async (runtime, input) => ({ devices: await runtime.locate(input.device) }),
  } satisfies ServiceCommand<typeof locate, FindMyRuntime, unknown>,
  play_sound: {
    schema: playSound,
    run: (runtime, input) => runtime.playSound(input.device, input.subject),
  } satisfies ServiceCommand<typeof playSound, FindMyRuntime, unknown>,
  send_message: {
    schema: sendMessage,
    run: (runtime, { device, text, subject, sound }) =>
      runtime.sendMessage(device, {
        text,
        ...(subject ? { subject } : {}),
        ...(sound === undefined ? {} : { sound }),
      }),
  } satisfies ServiceCommand<typeof sendMessage, FindMyRuntime, unknown>,
  lost_mode: {
    schema: lostMode,
    run: (runtime, { device, text, phone_number, passcode }) =>
      runtime.lostMode(device, {
        text: text ?? LOST_MODE_TEXT,
        ...(phone_number ? { phoneNumber: phone_number } : {}),
        ...(passcode ? { passcode } : {}),
      }),
  } satisfies ServiceCommand<typeof lostMode, FindMyRuntime, unknown>,
  /** Every device (`fmip.device`), from a fresh list unless one was read within 10 s; wakes no device. */
  list_devices: {
    schema: listDevices,
    run: async (runtime) => ({ devices: await runtime.listDevices() }),
  } satisfies ServiceCommand<typeof listDevices, FindMyRuntime, unknown>,
};
