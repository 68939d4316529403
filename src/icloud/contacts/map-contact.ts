import { createHash } from "node:crypto";
import { CONTACT_IMAGE_SCHEME, type ContactRecord, type MmeContact } from "./types.ts";
import type { WireContact } from "./wire.ts";

/** Apple's placeholder year for birthdays entered without one. */
const YEARLESS = "1604";

/** The published id of a card: 16 hex digits of the SHA-256 of Apple's contact id. */
export function contactItemId(contactId: string): string {
  return createHash("sha256").update(contactId).digest("hex").slice(0, 16);
}

const orNull = (value: string | null | undefined): string | null =>
  value === undefined || value === null || value.trim() === "" ? null : value;

/** `YYYY-MM-DD` (or `--MM-DD` without a year); null for anything else. */
export function normaliseBirthday(value: string | null | undefined): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value ?? "");
  if (!match) return null;
  const [, year, month, day] = match;
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > 31) return null;
  return year === YEARLESS ? `--${month}-${day}` : `${year}-${month}-${day}`;
}

/** A contact card of the web service in ricloud's `mme_contacts.contact` vocabulary. */
export function contactFromWire(card: WireContact): MmeContact {
  const id = contactItemId(card.contactId);
  const records: ContactRecord[] = [
    ...(card.phones ?? []).map((p) => ({ type: "Phone" as const, name: orNull(p.label), value: p.field })),
    ...(card.emailAddresses ?? []).map((e) => ({ type: "Email" as const, name: orNull(e.label), value: e.field })),
    ...(card.urls ?? []).map((u) => ({ type: "URL" as const, name: orNull(u.label), value: u.field })),
    ...(card.streetAddresses ?? []).map((a) => ({
      type: "Address" as const,
      name: orNull(a.label),
      Street: orNull(a.field.street),
      City: orNull(a.field.city),
      State: orNull(a.field.state),
      ZIP: orNull(a.field.postalCode),
      Country: orNull(a.field.country),
      CountryCode: orNull(a.field.countryCode?.toUpperCase()),
      SubLocality: orNull(a.field.subLocality),
      Municipality: orNull(a.field.subAdministrativeArea),
    })),
  ];
  return {
    id,
    data_type: "mme_contacts.contact",
    uid: Buffer.from(card.contactId, "utf8").toString("base64"),
    first_name: orNull(card.firstName),
    middle_name: orNull(card.middleName),
    last_name: orNull(card.lastName),
    prefix: orNull(card.prefix),
    suffix: orNull(card.suffix),
    nickname: orNull(card.nickName),
    records,
    organisation: orNull(card.companyName),
    department: orNull(card.department),
    jobtitle: orNull(card.jobTitle),
    birthday: normaliseBirthday(card.birthday),
    image: card.photo ? { id: `${CONTACT_IMAGE_SCHEME}://${id}`, data_type: "image", extension: "jpg" } : null,
  };
}
