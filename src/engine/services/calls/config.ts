import { z } from "zod";
import { scheduleField } from "../../../config/fields.ts";

/** `accounts[].calls`: call history (callkit.calls). */
export const CallsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Publish call history (callkit.calls)."),
    schedule: scheduleField("5m", "How often call history is read."),
    source: z
      .enum(["icloud", "macos"])
      .default("icloud")
      .describe("Read calls from iCloud or from a local macOS database."),
    macos_db: z
      .string()
      .min(1)
      .default("~/Library/Application Support/CallHistoryDB/CallHistory.storedata")
      .describe('Path of the macOS CallHistory database, used when source is "macos".'),
  })
  .describe("Call history (callkit.calls).");

export type CallsConfig = z.output<typeof CallsConfigSchema>;
