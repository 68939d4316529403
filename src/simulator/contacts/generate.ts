import { hashString, mix, Prng } from "../prng.ts";
import type { ScenarioContact } from "./scenario.ts";

/** Invented people, in several scripts, with the kinds of details real address books hold. */

interface Culture {
  first: readonly string[];
  last: readonly string[];
  /** Phone number prefix and digits after it. */
  phone: readonly [prefix: string, digits: number];
  city: readonly [city: string, country: string, countryCode: string, postalCode: string];
  domain: string;
}

const CULTURES: readonly Culture[] = [
  {
    first: ["Zoë", "François", "Chloé", "Aoife", "Mateo"],
    last: ["Lefèvre", "O'Brien", "García", "Núñez"],
    phone: ["+33 6", 8],
    city: ["Lyon", "France", "FR", "69002"],
    domain: "example.fr",
  },
  {
    first: ["Jürgen", "Søren", "Åsa", "Łucja"],
    last: ["Müller", "Øvergaard", "Dvořák", "Łukasiewicz"],
    phone: ["+49 151", 8],
    city: ["München", "Germany", "DE", "80331"],
    domain: "example.de",
  },
  {
    first: ["Анна", "Дмитрий", "Ольга", "Сергей"],
    last: ["Иванова", "Петров", "Смирнова", "Кузнецов"],
    phone: ["+7 912", 7],
    city: ["Санкт-Петербург", "Russia", "RU", "190000"],
    domain: "example.ru",
  },
  {
    first: ["Ελένη", "Νίκος", "Μαρία"],
    last: ["Παπαδοπούλου", "Γεωργίου", "Οικονόμου"],
    phone: ["+30 69", 8],
    city: ["Αθήνα", "Greece", "GR", "10557"],
    domain: "example.gr",
  },
  {
    first: ["فاطمة", "عمر", "ليلى"],
    last: ["الحسن", "خليل", "منصور"],
    phone: ["+971 50", 7],
    city: ["دبي", "United Arab Emirates", "AE", "00000"],
    domain: "example.ae",
  },
  {
    first: ["נועה", "דוד", "תמר"],
    last: ["כהן", "לוי", "מזרחי"],
    phone: ["+972 52", 7],
    city: ["תל אביב", "Israel", "IL", "6100000"],
    domain: "example.co.il",
  },
  {
    first: ["伟", "芳", "秀英", "磊"],
    last: ["王", "李", "张", "刘"],
    phone: ["+86 138", 8],
    city: ["上海", "China", "CN", "200000"],
    domain: "example.cn",
  },
  {
    first: ["さくら", "健太", "陽菜"],
    last: ["佐藤", "鈴木", "高橋"],
    phone: ["+81 90", 8],
    city: ["東京", "Japan", "JP", "100-0001"],
    domain: "example.jp",
  },
  {
    first: ["민준", "서연", "지우"],
    last: ["김", "이", "박"],
    phone: ["+82 10", 8],
    city: ["서울", "South Korea", "KR", "04524"],
    domain: "example.kr",
  },
  {
    first: ["आरव", "प्रिया", "अनन्या"],
    last: ["शर्मा", "पटेल", "गुप्ता"],
    phone: ["+91 98", 8],
    city: ["मुंबई", "India", "IN", "400001"],
    domain: "example.in",
  },
  {
    first: ["สมชาย", "มาลี", "ปรีชา"],
    last: ["ใจดี", "สุขสันต์", "ศรีสวัสดิ์"],
    phone: ["+66 81", 7],
    city: ["กรุงเทพมหานคร", "Thailand", "TH", "10200"],
    domain: "example.co.th",
  },
  {
    first: ["Jane", "Oliver", "Amelia", "Noah"],
    last: ["Appleseed", "Smith", "Johnson", "Williams"],
    phone: ["+1 415", 7],
    city: ["Cupertino", "United States", "US", "95014"],
    domain: "example.com",
  },
];

const COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella GmbH", "Stark Industries", "株式会社サンプル"];
const JOBS = ["Engineer", "Designer", "Nurse", "Teacher", "Product Manager", "Chef"];
const PHONE_LABELS = ["MOBILE", "HOME", "WORK", "iPhone"];

const pick = <T>(rng: Prng, list: readonly T[]): T => list[rng.int(0, list.length - 1)] as T;

function digits(rng: Prng, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += String(rng.int(0, 9));
  return out;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * `count` invented contacts for a seed (the same list for the same start day). The first
 * `birthdaysToday` have their birthday on `today` (month and day), no one else does; about one in ten
 * birthdays has no year (Apple's 1604).
 */
export function generateContacts(
  count: number,
  seed: number,
  key: string,
  today: { month: number; day: number },
  birthdaysToday = 0,
): ScenarioContact[] {
  const contacts: ScenarioContact[] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Prng(mix(seed, hashString(key), i));
    const culture = CULTURES[i % CULTURES.length] as Culture;
    const first = pick(rng, culture.first);
    const last = pick(rng, culture.last);
    let birthday: string | undefined;
    if (i < birthdaysToday) {
      birthday = `${1950 + rng.int(0, 60)}-${pad(today.month)}-${pad(today.day)}`;
    } else if (rng.next() < 0.7) {
      const year = rng.next() < 0.1 ? 1604 : 1940 + rng.int(0, 75);
      const month = rng.int(1, 12);
      let day = rng.int(1, 28);
      // Only the first `birthdaysToday` celebrate on the start day.
      if (month === today.month && day === today.day) day = (day % 28) + 1;
      birthday = `${year}-${pad(month)}-${pad(day)}`;
    }
    const [city, country, countryCode, postalCode] = culture.city;
    const local = `contact${i + 1}`;
    const company = rng.next() < 0.3;
    contacts.push({
      first_name: first,
      last_name: last,
      ...(rng.next() < 0.1 ? { nickname: `${first.slice(0, 2)}` } : {}),
      ...(birthday === undefined ? {} : { birthday }),
      ...(company ? { company: pick(rng, COMPANIES), job_title: pick(rng, JOBS), department: "R&D" } : {}),
      phones: Array.from({ length: rng.int(1, 2) }, () => ({
        label: pick(rng, PHONE_LABELS),
        value: `${culture.phone[0]} ${digits(rng, culture.phone[1])}`,
      })),
      emails: rng.next() < 0.8 ? [{ label: company ? "WORK" : "HOME", value: `${local}@${culture.domain}` }] : [],
      urls: rng.next() < 0.2 ? [{ label: "HOMEPAGE", value: `https://www.${culture.domain}/~${local}` }] : [],
      addresses:
        rng.next() < 0.3
          ? [
              {
                label: "HOME",
                street: `${rng.int(1, 200)} Example Street`,
                city,
                country,
                country_code: countryCode.toLowerCase(),
                postal_code: postalCode,
              },
            ]
          : [],
      photo: rng.next() < 0.25,
    });
  }
  return contacts;
}
