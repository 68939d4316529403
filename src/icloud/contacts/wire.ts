import { z } from "zod";

/**
 * The iCloud.com contacts web service as the public clients read it (timlaing/pyicloud
 * `pyicloud/services/contacts.py`: `co/startup`, then `co/contacts` with its `prefToken`/`syncToken`;
 * MauriceConrad/iCloud-API `resources/apps/Contacts.js` for the card fields). Everything is loose:
 * Apple adds fields freely, and any field may be missing.
 */

const text = z.string().nullish();
const labelled = z.object({ label: text, field: z.string() }).loose();

const AddressFieldSchema = z
  .object({
    street: text,
    city: text,
    state: text,
    postalCode: text,
    country: text,
    countryCode: text,
    subLocality: text,
    subAdministrativeArea: text,
  })
  .loose();

export const WireContactSchema = z
  .object({
    contactId: z.string().min(1),
    etag: text,
    firstName: text,
    middleName: text,
    lastName: text,
    prefix: text,
    suffix: text,
    nickName: text,
    companyName: text,
    department: text,
    jobTitle: text,
    birthday: text,
    isCompany: z.boolean().nullish(),
    phones: z.array(labelled).nullish(),
    emailAddresses: z.array(labelled).nullish(),
    urls: z.array(labelled).nullish(),
    streetAddresses: z.array(z.object({ label: text, field: AddressFieldSchema }).loose()).nullish(),
    photo: z
      .object({ url: z.string().min(1) })
      .loose()
      .nullish(),
  })
  .loose();
export type WireContact = z.infer<typeof WireContactSchema>;

/** `co/startup`: the tokens every later call names (its own `contacts` are not used: `co/contacts` pages them). */
export const StartupSchema = z.object({ prefToken: z.string().min(1), syncToken: z.string().min(1) }).loose();

/** One page of `co/contacts`. */
export const ContactsPageSchema = z.object({ contacts: z.array(z.unknown()).default([]) }).loose();

/**
 * `co/changeset`: the cards added or changed since `syncToken`, the ids of deleted cards, and the new
 * tokens. No public client reads this answer; its shape is the one the simulator serves (see
 * src/simulator/contacts/README.md).
 */
export const ChangesetSchema = z
  .object({
    syncToken: z.string().min(1),
    prefToken: z.string().min(1).optional(),
    contacts: z.array(z.unknown()).default([]),
    deletes: z
      .object({ contacts: z.array(z.string()).default([]) })
      .loose()
      .optional(),
  })
  .loose();

/** An error answer (`errorCode` is how the contacts service reports a refused call). */
export const ContactsErrorSchema = z.object({ errorCode: z.union([z.string(), z.number()]) }).loose();
