import type { CloudKitRecord } from "./cloudkit-schemas.ts";
import { AssetIdValueSchema, ReferenceValueSchema } from "./cloudkit-schemas.ts";
import type { FileRole, IcplAsset, IcplFile, PhotoItem, PhotoZone } from "./types.ts";
import { fileKind, uniformTypeExtension } from "./uti.ts";

/** CloudKit resource families (`res<Name>Res`) and the vocabulary role of each. */
const RESOURCES: readonly (readonly [string, FileRole])[] = [
  ["Original", "original"],
  ["OriginalAlt", "original_alt"],
  ["OriginalVidCompl", "live_video"],
  ["JPEGFull", "full"],
  ["JPEGLarge", "large"],
  ["JPEGMed", "medium"],
  ["JPEGThumb", "thumbnail"],
  ["VidFull", "video_full"],
  ["VidMed", "video_medium"],
  ["VidSmall", "video_small"],
  ["Sidecar", "sidecar"],
];

/** The keys the client reads; sent as `desiredKeys` (a projection, servers may send more). */
export const DESIRED_KEYS: readonly string[] = [
  ...RESOURCES.flatMap(([name]) => [`res${name}Res`, `res${name}FileType`, `res${name}Width`, `res${name}Height`]),
  "filenameEnc",
  "itemType",
  "masterRef",
  "assetDate",
  "addedDate",
  "timeZoneOffset",
  "isFavorite",
  "isHidden",
  "isDeleted",
  "duration",
  "recordName",
  "recordType",
];

function value(record: CloudKitRecord, name: string): unknown {
  return record.fields?.[name]?.value;
}

export function numberField(record: CloudKitRecord, name: string): number | undefined {
  const v = value(record, name);
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function stringField(record: CloudKitRecord, name: string): string | undefined {
  const v = value(record, name);
  return typeof v === "string" ? v : undefined;
}

/** `filenameEnc` is base64 UTF-8 (`ENCRYPTED_BYTES`) or sometimes a plain `STRING`. */
export function decodeFilename(record: CloudKitRecord): string | undefined {
  const field = record.fields?.["filenameEnc"];
  if (typeof field?.value !== "string" || field.value === "") return undefined;
  if (field.type === "STRING") return field.value;
  const decoded = Buffer.from(field.value, "base64").toString("utf8");
  return decoded === "" ? undefined : decoded;
}

/** The CPLMaster a CPLAsset points to. */
export function masterRefOf(record: CloudKitRecord): string | undefined {
  const parsed = ReferenceValueSchema.safeParse(value(record, "masterRef"));
  return parsed.success ? parsed.data.recordName : undefined;
}

export function isTombstone(record: CloudKitRecord): boolean {
  return record.deleted === true && record.fields === undefined;
}

export function flag(record: CloudKitRecord, name: string): boolean {
  return numberField(record, name) === 1;
}

/** UTC ISO string; milliseconds only when non-zero (ricloud prints whole seconds). */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** Wall-clock time at `offsetSeconds` from UTC with an explicit `±hh:mm` suffix. */
export function isoWithOffset(ms: number, offsetSeconds: number): string {
  const local = isoUtc(ms + offsetSeconds * 1000).slice(0, -1);
  const sign = offsetSeconds < 0 ? "-" : "+";
  const abs = Math.abs(Math.round(offsetSeconds / 60));
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${local}${sign}${hh}:${mm}`;
}

function resourceFiles(master: CloudKitRecord, filename: string): { files: IcplFile[]; urls: Map<string, string> } {
  const files: IcplFile[] = [];
  const urls = new Map<string, string>();
  for (const [name, role] of RESOURCES) {
    const raw = value(master, `res${name}Res`);
    if (raw === undefined) continue; // most resources are absent; skip before zod builds an error
    const parsed = AssetIdValueSchema.safeParse(raw);
    if (!parsed.success) continue;
    const uti = stringField(master, `res${name}FileType`);
    const extension = uniformTypeExtension(uti, role === "original" ? filename : undefined);
    const id = `icpl://${parsed.data.fileChecksum ?? `${master.recordName}~${role}`}`;
    const width = numberField(master, `res${name}Width`);
    const height = numberField(master, `res${name}Height`);
    files.push({
      id,
      data_type: fileKind(uti, extension),
      extension,
      size: parsed.data.size,
      ...(width === undefined ? {} : { width: Math.round(width) }),
      ...(height === undefined ? {} : { height: Math.round(height) }),
      role,
    });
    if (parsed.data.downloadURL) urls.set(id, parsed.data.downloadURL);
  }
  return { files, urls };
}

/** Builds the vocabulary item from a paired CPLMaster + CPLAsset. */
export function toPhotoItem(master: CloudKitRecord, asset: CloudKitRecord, zone: PhotoZone): PhotoItem {
  const filename = decodeFilename(master) ?? master.recordName;
  const { files, urls } = resourceFiles(master, filename);
  const created = numberField(asset, "assetDate") ?? asset.created?.timestamp ?? 0;
  const added = numberField(asset, "addedDate") ?? created;
  const offset = numberField(asset, "timeZoneOffset");
  const original = files.find((file) => file.role === "original");
  const isVideo = original ? original.data_type === "video" : fileKind(stringField(master, "itemType"), "") === "video";
  const mediaType = isVideo ? "video" : files.some((file) => file.role === "live_video") ? "live_photo" : "photo";
  const duration = numberField(asset, "duration");
  const icpl: IcplAsset = {
    id: asset.recordName,
    data_type: "icpl.asset",
    filename,
    files,
    date_created: isoUtc(created),
    date_uploaded: isoUtc(added),
    ...(offset === undefined ? {} : { local_date_created: isoWithOffset(created, offset) }),
    media_type: mediaType,
    favorite: flag(asset, "isFavorite"),
    hidden: flag(asset, "isHidden"),
    master_id: master.recordName,
    zone: zone.zoneID.zoneName,
    ...(isVideo && duration !== undefined && duration >= 0 ? { duration } : {}),
  };
  return { asset: icpl, zone, downloads: urls, deleted: flag(asset, "isDeleted") };
}

/**
 * Joins CPLMaster and CPLAsset records that arrive in any order (a query page lists all masters
 * first; `changes/zone` follows the change log). Halves wait in the buffer until their partner comes.
 */
export class RecordPairer {
  readonly #masters = new Map<string, CloudKitRecord>();
  /** Assets waiting for their master, by master record name. */
  readonly #assets = new Map<string, CloudKitRecord[]>();

  /** Adds one record and returns the pairs it completes. */
  add(record: CloudKitRecord): [CloudKitRecord, CloudKitRecord][] {
    if (record.recordType === "CPLMaster") {
      this.#masters.set(record.recordName, record);
      const waiting = this.#assets.get(record.recordName) ?? [];
      this.#assets.delete(record.recordName);
      return waiting.map((asset) => [record, asset]);
    }
    if (record.recordType !== "CPLAsset") return [];
    const masterName = masterRefOf(record);
    if (masterName === undefined) return [];
    const master = this.#masters.get(masterName);
    if (master) return [[master, record]];
    const list = this.#assets.get(masterName) ?? [];
    list.push(record);
    this.#assets.set(masterName, list);
    return [];
  }

  /** Assets still waiting for a master (their master was not in this batch). */
  orphanAssets(): CloudKitRecord[] {
    return [...this.#assets.values()].flat();
  }

  /** Forgets the masters (memory stays bounded per page) but keeps waiting assets. */
  clearMasters(): void {
    this.#masters.clear();
  }
}
