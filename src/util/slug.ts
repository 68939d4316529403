import { createRequire } from "node:module";

type Transliterate = typeof import("transliteration")["transliterate"];
let transliterate: Transliterate | undefined;

/**
 * `transliteration` of `text`, loaded on the first text that is not plain ASCII: its tables take
 * about 15 MB of memory, and it returns ASCII unchanged.
 */
function toAscii(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) < 0x80;
  if (ascii) return text;
  transliterate ??= (createRequire(import.meta.url)("transliteration") as typeof import("transliteration"))
    .transliterate;
  return transliterate(text);
}

/**
 * A slug the way Home Assistant makes entity ids from names (`homeassistant.util.slugify`, which is
 * python-slugify over unidecode): ASCII apostrophes split words, everything else is transliterated
 * to ASCII (`ø` → `o`, `ß` → `ss`, `爸爸` → `ba ba`), the apostrophes that transliteration produces
 * (`’` → `'`) are dropped, commas between digits disappear, and every other run of characters
 * outside `[a-z0-9]` becomes one `_`. Empty when nothing is left (`!!!`, emoji only): callers
 * choose their own fallback.
 *
 * `Jane's iPad` → `jane_s_ipad`, `Jane’s iPhone` → `janes_iphone`, `Straße-Mac` → `strasse_mac`.
 */
export function haSlug(text: string): string {
  const ascii = toAscii(text.replace(/'+/g, "-").normalize("NFKD"));
  return ascii
    .normalize("NFKD")
    .toLowerCase()
    .replace(/'+/g, "")
    .replace(/(?<=\d),(?=\d)/g, "")
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "")
    .replaceAll("-", "_");
}

/**
 * A slug of `name` that is not in `taken`: the plain slug, else `<slug>_2`, `<slug>_3`, … (as Home
 * Assistant numbers clashing entity ids). `fallback` replaces a name that leaves nothing.
 */
export function uniqueSlug(name: string, fallback: string, taken: ReadonlySet<string>): string {
  const base = haSlug(name) || haSlug(fallback) || "unnamed";
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    const candidate = `${base}_${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}
