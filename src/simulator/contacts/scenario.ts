import { z } from "zod";
import { msOrDuration } from "../duration.ts";

const labelled = z.object({ label: z.string().min(1).default("HOME"), value: z.string().min(1) }).strict();

/** One contact written out in a scenario, or added by a test at run time (web-service spelling, snake_case). */
export const ScenarioContactSchema = z
  .object({
    /** Apple's contact id; derived from the account and position when omitted. */
    id: z.string().min(1).optional(),
    first_name: z.string().optional(),
    middle_name: z.string().optional(),
    last_name: z.string().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
    nickname: z.string().optional(),
    company: z.string().optional(),
    department: z.string().optional(),
    job_title: z.string().optional(),
    /** `YYYY-MM-DD`; a year of 1604 means "no year", as Apple stores it. */
    birthday: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    phones: z.array(labelled).default([]),
    emails: z.array(labelled).default([]),
    urls: z.array(labelled).default([]),
    addresses: z
      .array(
        z
          .object({
            label: z.string().min(1).default("HOME"),
            street: z.string().optional(),
            city: z.string().optional(),
            state: z.string().optional(),
            postal_code: z.string().optional(),
            country: z.string().optional(),
            country_code: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    /** Whether the card has a profile photo (a small JPEG the simulator makes). */
    photo: z.boolean().default(false),
  })
  .strict();
export type ScenarioContactInput = z.input<typeof ScenarioContactSchema>;
export type ScenarioContact = z.output<typeof ScenarioContactSchema>;

/**
 * `accounts[].contacts` of a simulator scenario. Without this section the account has no Contacts web
 * service (accountLogin does not advertise `contacts`, as for an account with Contacts turned off).
 */
export const ContactsScenarioSchema = z
  .object({
    /** Contacts written out. */
    people: z.array(ScenarioContactSchema).default([]),
    /** Invented contacts (names in several scripts, birthdays, some photos), the same for the same seed. */
    generate: z
      .object({
        count: z.number().int().min(0).max(20_000),
        seed: z.number().int().default(1),
        /** How many of them have their birthday on the day the simulator starts (local time). */
        birthdays_today: z.number().int().min(0).default(0),
      })
      .strict()
      .optional(),
    /** A contact is added, changed or deleted (in turn) each time the simulator clock passes this interval. */
    change_every: msOrDuration.refine((ms) => ms >= 1000, { message: "change_every must be at least 1s" }).optional(),
  })
  .strict();
export type ContactsScenario = z.output<typeof ContactsScenarioSchema>;
export type ContactsScenarioInput = z.input<typeof ContactsScenarioSchema>;

/** Parses an account's raw `contacts` section; undefined when the account has none. Throws a readable error. */
export function parseContactsScenario(raw: unknown, appleId: string): ContactsScenario | undefined {
  if (raw === undefined || raw === null) return undefined;
  const result = ContactsScenarioSchema.safeParse(raw);
  if (!result.success) throw new Error(`invalid contacts section for ${appleId}: ${z.prettifyError(result.error)}`);
  return result.data;
}
