/** Uniform type identifiers used by the generator, with the filename prefix/extension each gets. */
export interface ItemType {
  uti: string;
  ext: string;
  prefix: string;
  video: boolean;
}

export const ITEM_TYPES: readonly ItemType[] = [
  { uti: "public.heic", ext: "HEIC", prefix: "IMG_", video: false },
  { uti: "public.jpeg", ext: "JPG", prefix: "IMG_", video: false },
  { uti: "public.png", ext: "PNG", prefix: "IMG_", video: false },
  { uti: "com.apple.quicktime-movie", ext: "MOV", prefix: "IMG_", video: true },
  { uti: "com.adobe.raw-image", ext: "DNG", prefix: "IMG_", video: false },
  { uti: "public.mpeg-4", ext: "MP4", prefix: "VID_", video: true },
];

export const TYPE_HEIC = 0;
export const TYPE_JPEG = 1;
export const TYPE_PNG = 2;
export const TYPE_MOV = 3;
export const TYPE_RAW = 4;
export const TYPE_MP4 = 5;

export function itemType(code: number): ItemType {
  const t = ITEM_TYPES[code];
  if (!t) throw new Error(`unknown item type code ${code}`);
  return t;
}

/** Bit flags kept per asset. */
export const FLAG_LIVE = 1;
export const FLAG_HIDDEN = 2;
/** In "Recently Deleted" (`isDeleted = 1`). */
export const FLAG_DELETED = 4;
export const FLAG_FAVORITE = 8;
/** Hard-deleted: both records are gone and `changes/zone` sends tombstones. */
export const FLAG_EXPUNGED = 16;
export const FLAG_STRING_NAME = 32;
export const FLAG_HOSTILE_NAME = 64;
export const FLAG_PORTRAIT = 128;

/** Hostile names a scenario can sprinkle in (`hostile_filenames: true`); `null` = no filenameEnc field. */
export const HOSTILE_NAMES: readonly (string | null)[] = [
  "../../etc/passwd",
  "Holiday/2024/IMG_0001.JPG",
  "..\\..\\Windows\\win.ini",
  "Фото 📸 ünïcødé — 東京.HEIC",
  `${"very_long_name_".repeat(20)}IMG_0001.JPG`,
  "..",
  ".hidden.jpg",
  "CON.JPG",
  "  spaces  and trailing dot .jpg.",
  'quote"star*colon:pipe|question?.png',
  "",
  null,
];
