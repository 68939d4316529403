import { z } from "zod";
import { msOrDuration } from "../duration.ts";

export const ScenarioAttachmentSchema = z
  .object({
    filename: z.string().min(1),
    /** Uniform type identifier, e.g. `public.jpeg`, `com.adobe.pdf`, `public.url`. */
    uti: z.string().min(1),
  })
  .strict();

/** One note written out in a scenario, or added by a test at run time. */
export const ScenarioNoteSchema = z
  .object({
    /** The record name; derived when omitted. */
    id: z.string().min(1).optional(),
    title: z.string(),
    /** Plain text after the title line. */
    body: z.string().default(""),
    /** Folder name (default: the first folder). */
    folder: z.string().optional(),
    created: z.iso
      .datetime({ offset: true })
      .transform((text) => Date.parse(text))
      .optional(),
    modified: z.iso
      .datetime({ offset: true })
      .transform((text) => Date.parse(text))
      .optional(),
    /** Locked with a password (a `PasswordProtectedNote`: listed, body unreadable). */
    locked: z.boolean().default(false),
    /** In Recently Deleted (`Deleted: 1`). */
    deleted: z.boolean().default(false),
    attachments: z.array(ScenarioAttachmentSchema).default([]),
  })
  .strict();
export type ScenarioNoteInput = z.input<typeof ScenarioNoteSchema>;
export type ScenarioNote = z.output<typeof ScenarioNoteSchema>;

/**
 * `accounts[].notes` of a simulator scenario. Without this section (or with `initialised: false`) the
 * account's Notes zone does not exist (CloudKit answers ZONE_NOT_FOUND), as when Notes is off.
 */
export const NotesScenarioSchema = z
  .object({
    initialised: z.boolean().default(true),
    folders: z.array(z.string().min(1)).min(1).default(["Notes"]),
    notes: z.array(ScenarioNoteSchema).default([]),
    /** Invented notes (several scripts, some with attachments, one locked), the same for the same seed. */
    generate: z
      .object({ count: z.number().int().min(0).max(20_000), seed: z.number().int().default(1) })
      .strict()
      .optional(),
    /** A note is added, edited or deleted (in turn) each time the simulator clock passes this interval. */
    change_every: msOrDuration.refine((ms) => ms >= 1000, { message: "change_every must be at least 1s" }).optional(),
  })
  .strict();
export type NotesScenario = z.output<typeof NotesScenarioSchema>;
export type NotesScenarioInput = z.input<typeof NotesScenarioSchema>;

/** Parses an account's raw `notes` section; undefined when the account has none. Throws a readable error. */
export function parseNotesScenario(raw: unknown, appleId: string): NotesScenario | undefined {
  if (raw === undefined || raw === null) return undefined;
  const result = NotesScenarioSchema.safeParse(raw);
  if (!result.success) throw new Error(`invalid notes section for ${appleId}: ${z.prettifyError(result.error)}`);
  return result.data;
}
