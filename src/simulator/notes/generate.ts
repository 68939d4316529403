import { hashString, mix, Prng } from "../prng.ts";
import type { ScenarioNote } from "./scenario.ts";

/** Invented notes: several scripts, lists and recipes, some attachments, one locked and one recently deleted. */

const NOTES: ReadonlyArray<{ title: string; body: string }> = [
  { title: "Shopping list", body: "- Milk\n- Eggs\n- Coffee beans\n- Äpfel" },
  { title: "Ideas for the weekend", body: "Hike to the lake, try the new bakery, call grandma." },
  { title: "Рецепт борща", body: "Свёкла, капуста, картофель, морковь, лук. Варить 2 часа." },
  { title: "買い物リスト", body: "牛乳\n卵\nお茶" },
  { title: "Ιδέες για δώρα", body: "Βιβλίο, κεραμική κούπα, φυτό." },
  { title: "会议记录", body: "讨论了第三季度的计划和预算。" },
  { title: "ملاحظات السفر", body: "جواز السفر، التذاكر، الشاحن." },
  { title: "רשימת משימות", body: "לשלם חשבונות, לקבוע תור לרופא." },
  { title: "Wi-Fi at the cabin", body: "Network: Cabin-5G. Router in the hall cupboard." },
  { title: "Book recommendations", body: "The Left Hand of Darkness; Piranesi; Der Process." },
  { title: "한국어 단어", body: "사과 = apple, 책 = book, 물 = water" },
  { title: "यात्रा योजना", body: "दिल्ली → जयपुर → उदयपुर" },
];

const ATTACHMENTS = [
  { filename: "whiteboard.jpg", uti: "public.jpeg" },
  { filename: "ticket.pdf", uti: "com.adobe.pdf" },
  { filename: "recipe.webloc", uti: "public.url" },
];

/**
 * `count` notes for a seed, spread over the 60 days before `epoch` and the given folders. The second
 * note is locked, the third is in Recently Deleted; about one in four has an attachment.
 */
export function generateNotes(
  count: number,
  seed: number,
  key: string,
  folders: readonly string[],
  epoch: number,
): ScenarioNote[] {
  const out: ScenarioNote[] = [];
  for (let i = 0; i < count; i++) {
    const rng = new Prng(mix(seed, hashString(key), i));
    const sample = NOTES[i % NOTES.length] as { title: string; body: string };
    const created = epoch - rng.int(2, 60) * 86_400_000 - rng.int(0, 86_399) * 1000;
    const modified = Math.min(epoch - 60_000, created + rng.int(0, 20) * 86_400_000);
    const locked = i === 1;
    const attachments =
      !locked && (i === 0 || rng.next() < 0.25)
        ? [ATTACHMENTS[i % ATTACHMENTS.length] as { filename: string; uti: string }]
        : [];
    out.push({
      title: locked
        ? "Passwords 🔒"
        : i >= NOTES.length
          ? `${sample.title} (${Math.floor(i / NOTES.length) + 1})`
          : sample.title,
      body: locked ? "Bank PIN and door codes" : sample.body,
      folder: folders[i % folders.length] as string,
      created,
      modified,
      locked,
      deleted: i === 2,
      attachments,
    });
  }
  return out;
}
