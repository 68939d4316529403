import { z } from "zod";

/**
 * Contacts as the bridge publishes them (`mme_contacts.contacts` items), in ricloud's vocabulary:
 * snake_case names, `records` for phone numbers, e-mail addresses, URLs and postal addresses, the
 * profile image as a file id. Personal data: never logged (only counts and ids are).
 */

const label = z.string().nullable();

export const ContactValueRecordSchema = z.object({
  type: z.enum(["Phone", "Email", "URL"]),
  /** Apple's label (`MOBILE`, `HOME`, `WORK`, `HOMEPAGE`, a custom text), null when none. */
  name: label,
  value: z.string(),
});

/** A postal address; keys as ricloud spells them. */
export const ContactAddressRecordSchema = z.object({
  type: z.literal("Address"),
  name: label,
  Street: z.string().nullable(),
  City: z.string().nullable(),
  State: z.string().nullable(),
  ZIP: z.string().nullable(),
  Country: z.string().nullable(),
  CountryCode: z.string().nullable(),
  SubLocality: z.string().nullable(),
  Municipality: z.string().nullable(),
});

export const ContactRecordSchema = z.union([ContactValueRecordSchema, ContactAddressRecordSchema]);
export type ContactRecord = z.infer<typeof ContactRecordSchema>;

/** `mme_contact_image://<contact id>`: fetched with the `contact_image` command. */
export const CONTACT_IMAGE_SCHEME = "mme_contact_image";

export const ContactImageSchema = z.object({
  id: z.string().regex(/^mme_contact_image:\/\/[0-9a-f]{16}$/),
  data_type: z.literal("image"),
  extension: z.string().min(1),
});

/** A birthday: `YYYY-MM-DD`, or `--MM-DD` when the year is not known (Apple stores those as 1604). */
export const BirthdaySchema = z.string().regex(/^(\d{4}-|--)\d{2}-\d{2}$/);

export const MmeContactSchema = z.object({
  /** 16 hex digits derived from Apple's contact id; stable across polls. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  data_type: z.literal("mme_contacts.contact"),
  /** Base64 of Apple's contact id (the vCard UID), to de-duplicate across sources. */
  uid: z.string().min(1),
  first_name: z.string().nullable(),
  middle_name: z.string().nullable(),
  last_name: z.string().nullable(),
  prefix: z.string().nullable(),
  suffix: z.string().nullable(),
  nickname: z.string().nullable(),
  records: z.array(ContactRecordSchema),
  organisation: z.string().nullable(),
  department: z.string().nullable(),
  jobtitle: z.string().nullable(),
  birthday: BirthdaySchema.nullable(),
  image: ContactImageSchema.nullable(),
});
export type MmeContact = z.infer<typeof MmeContactSchema>;

/** The name people know a contact by: first and last name, else the nickname, else the organisation. */
export function displayName(
  contact: Pick<MmeContact, "first_name" | "last_name" | "nickname" | "organisation">,
): string {
  const person = [contact.first_name, contact.last_name].filter((part) => part !== null && part !== "").join(" ");
  return person || contact.nickname || contact.organisation || "";
}
