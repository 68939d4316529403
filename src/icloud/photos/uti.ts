/** Uniform Type Identifiers seen in CloudKit `itemType` / `res*FileType`, and their file extensions. */
const EXTENSIONS: Record<string, string> = {
  "public.jpeg": "jpg",
  "public.heic": "heic",
  "public.heif": "heif",
  "public.png": "png",
  "public.tiff": "tiff",
  "com.compuserve.gif": "gif",
  "org.webmproject.webp": "webp",
  "com.adobe.raw-image": "dng",
  "com.canon.cr2-raw-image": "cr2",
  "com.canon.cr3-raw-image": "cr3",
  "com.nikon.raw-image": "nef",
  "com.sony.arw-raw-image": "arw",
  "com.fuji.raw-image": "raf",
  "com.olympus.raw-image": "orf",
  "com.panasonic.rw2-raw-image": "rw2",
  "com.apple.quicktime-movie": "mov",
  "public.mpeg-4": "mp4",
  "public.avi": "avi",
  "com.apple.m4v-video": "m4v",
  "public.mpeg-4-audio": "m4a",
  "com.apple.photos.sidecar": "aae",
};

const VIDEO_UTIS = new Set([
  "com.apple.quicktime-movie",
  "public.mpeg-4",
  "public.avi",
  "com.apple.m4v-video",
  "public.movie",
]);
const VIDEO_EXTENSIONS = new Set(["mov", "mp4", "m4v", "avi", "3gp"]);
const AUDIO_EXTENSIONS = new Set(["m4a", "mp3", "wav", "aac"]);

/**
 * Extension for a resource: from its UTI, else from the original filename, else `bin`.
 * Always lower case, alphanumeric, at most 10 characters.
 */
export function uniformTypeExtension(uti: string | undefined, filename: string | undefined): string {
  const known = uti === undefined ? undefined : EXTENSIONS[uti];
  if (known) return known;
  const dot = filename?.lastIndexOf(".") ?? -1;
  const fromName = filename && dot > 0 ? filename.slice(dot + 1).toLowerCase() : "";
  return /^[a-z0-9]{1,10}$/.test(fromName) ? fromName : "bin";
}

export function fileKind(uti: string | undefined, extension: string): "image" | "video" | "audio" | "file" {
  if ((uti !== undefined && VIDEO_UTIS.has(uti)) || VIDEO_EXTENSIONS.has(extension)) return "video";
  if (AUDIO_EXTENSIONS.has(extension)) return "audio";
  if (extension === "aae" || extension === "bin") return uti?.startsWith("public.") ? "image" : "file";
  return "image";
}
