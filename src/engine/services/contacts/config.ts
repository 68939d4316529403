import { z } from "zod";
import { scheduleField } from "../../../config/fields.ts";

/** `accounts[].contacts`: iCloud Contacts (mme_contacts.contacts). */
export const ContactsConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Read iCloud Contacts (mme_contacts.contacts) and publish today's birthdays. Off by default: it reads the whole address book.",
      ),
    schedule: scheduleField("1d", "How often the address book is checked for changes."),
  })
  .describe("iCloud Contacts (mme_contacts.contacts).");

export type ContactsConfig = z.output<typeof ContactsConfigSchema>;
