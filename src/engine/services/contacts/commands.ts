import { z } from "zod";
import { accountField } from "../../command-fields.ts";
import type { ServiceCommand } from "../service-module.ts";
import type { ContactsRuntime } from "./runtime.ts";

const listContacts = z.strictObject({
  account: accountField,
  limit: z.number().int().min(1).max(50_000).default(10_000).describe("At most this many contacts"),
});
const contactImage = z.strictObject({
  account: accountField,
  file: z
    .string()
    .regex(/^mme_contact_image:\/\/[0-9a-f]{16}$/)
    .describe("The contact's `image.id` (mme_contact_image://…)"),
});

/** The address book's commands (read-only; the polling job's tokens are left alone). */
export const contactsCommands = {
  /** Every contact (`mme_contacts.contact`), read from iCloud now, sorted by last then first name. */
  list_contacts: {
    schema: listContacts,
    run: async (runtime, { limit }) => ({ contacts: await runtime.list(limit) }),
  } satisfies ServiceCommand<typeof listContacts, ContactsRuntime, unknown>,
  /** A contact's profile image: `{id, content_type, extension, size, data}` with the bytes as base64. */
  contact_image: {
    schema: contactImage,
    run: (runtime, { file }) => runtime.image(file),
  } satisfies ServiceCommand<typeof contactImage, ContactsRuntime, unknown>,
};
