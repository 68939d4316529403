import { z } from "zod";

/** Someone whose birthday is today, as front-ends publish it (name and birthday only; no other details). */
export const BirthdayPersonSchema = z.object({
  /** The contact's `id` (as in `mme_contacts.contact`). */
  id: z.string().min(1),
  name: z.string(),
  /** `YYYY-MM-DD`, or `--MM-DD` when the year is not known. */
  birthday: z.string(),
  /** The age reached today; null when the year is not known. */
  age: z.number().int().nonnegative().nullable(),
});
export type BirthdayPerson = z.infer<typeof BirthdayPersonSchema>;

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** Today's date on this machine (the bridge's time zone), as `YYYY-MM-DD` parts. */
export function localToday(now = new Date()): LocalDate {
  return { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
}

export function isoDate({ year, month, day }: LocalDate): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/**
 * Whether `birthday` falls on `today`. People born on 29 February celebrate on 28 February in years
 * without one.
 */
export function isBirthdayOn(birthday: string, today: LocalDate): boolean {
  const match = /^(?:\d{4}-|--)(\d{2})-(\d{2})$/.exec(birthday);
  if (!match) return false;
  const month = Number(match[1]);
  const day = Number(match[2]);
  if (month === today.month && day === today.day) return true;
  return month === 2 && day === 29 && !isLeap(today.year) && today.month === 2 && today.day === 28;
}

/** People with a birthday on `today`, sorted by name. */
export function birthdaysOn(
  people: Iterable<{ id: string; name: string; birthday: string | null }>,
  today: LocalDate,
): BirthdayPerson[] {
  const out: BirthdayPerson[] = [];
  for (const person of people) {
    if (person.birthday === null || !isBirthdayOn(person.birthday, today)) continue;
    const year = person.birthday.startsWith("--") ? null : Number(person.birthday.slice(0, 4));
    out.push({
      id: person.id,
      name: person.name,
      birthday: person.birthday,
      age: year === null || year > today.year ? null : today.year - year,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
