import { MmeContactSchema } from "../../../icloud/contacts/types.ts";
import type { RicloudServiceView } from "../../../ricloud-api/service-view.ts";

/**
 * Contacts in the ricloud-compatible API: `mme_contacts.contacts` results hold the address book as
 * `mme_contacts.contact` (no date filter: contacts have none); a `files` poll with an
 * `mme_contact_image://…` id returns the contact's picture.
 */
export const contactsRicloud: RicloudServiceView = {
  items: async (api, account) => (await api.execute("list_contacts", { account })).contacts,
  files: {
    scheme: "mme_contact_image",
    refs: (item) => {
      const contact = MmeContactSchema.safeParse(item);
      return contact.success && contact.data.image !== null ? [{ id: contact.data.image.id, ref: null }] : [];
    },
    fetch: async (api, account, id) => {
      const file = await api.execute("contact_image", { account, file: id });
      const data = Buffer.from(file.data, "base64");
      return { data, size: data.length, extension: file.extension };
    },
  },
};
