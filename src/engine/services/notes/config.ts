import { z } from "zod";
import { scheduleField } from "../../../config/fields.ts";

/** `accounts[].notes`: iCloud Notes (mme_notes.notes). */
export const NotesConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Read iCloud Notes (mme_notes.notes): the count and an event per new or changed note. Off by default: notes are private.",
      ),
    schedule: scheduleField("1h", "How often Notes is checked for changes."),
    publish_body: z
      .boolean()
      .default(false)
      .describe(
        "Include note bodies (plain text) in note events (MQTT notes/event and every front-end). Off: titles only.",
      ),
  })
  .describe("iCloud Notes (mme_notes.notes).");

export type NotesConfig = z.output<typeof NotesConfigSchema>;
