/** Builds CloudKit JSON records (CPLMaster, CPLAsset, tombstones) from a zone's columns. */

import { hex, mix } from "../prng.ts";
import { resourceSize, thumbnailDimensions } from "./content.ts";
import { buildDownloadUrl } from "./download-url.ts";
import {
  FLAG_DELETED,
  FLAG_EXPUNGED,
  FLAG_FAVORITE,
  FLAG_HIDDEN,
  FLAG_LIVE,
  FLAG_PORTRAIT,
  FLAG_STRING_NAME,
  itemType,
  TYPE_PNG,
  TYPE_RAW,
} from "./item-types.ts";
import {
  assetRecordName,
  fileChecksumBytes,
  filename,
  masterRecordName,
  RES_ORIGINAL,
  RES_THUMB,
  RES_VID_COMPL,
  referenceChecksumBytes,
  wrappingKey,
} from "./names.ts";
import type { ZoneLibrary } from "./zone-library.ts";

export interface Field {
  value: unknown;
  type: string;
}

export interface CkRecord {
  recordName: string;
  recordType?: string;
  fields?: Record<string, Field>;
  pluginFields?: Record<string, never>;
  recordChangeTag?: string;
  created?: { timestamp: number; userRecordName: string; deviceID: string };
  modified?: { timestamp: number; userRecordName: string; deviceID: string };
  deleted: boolean;
  zoneID: { zoneName: string; ownerRecordName: string; zoneType: string };
}

export interface RecordContext {
  origin: string;
  dsid: string;
  now: number;
  /** Projection: only these field names (all fields when undefined or empty). */
  desiredKeys?: readonly string[] | undefined;
}

const deviceIds = new WeakMap<ZoneLibrary, string>();

function deviceId(z: ZoneLibrary): string {
  let id = deviceIds.get(z);
  if (id === undefined) {
    id = "";
    for (let i = 0; i < 8; i++) id += hex(mix(z.key, 0xde70 + i), 8);
    id = id.toUpperCase();
    deviceIds.set(z, id);
  }
  return id;
}

function project(fields: Record<string, Field>, keys: readonly string[] | undefined): Record<string, Field> {
  if (!keys || keys.length === 0) return fields;
  const out: Record<string, Field> = {};
  for (const key of keys) {
    const field = fields[key];
    if (field) out[key] = field;
  }
  return out;
}

function envelope(
  z: ZoneLibrary,
  recordName: string,
  recordType: string,
  seq: number,
  created: number,
  modified: number,
  fields: Record<string, Field>,
): CkRecord {
  const device = deviceId(z);
  const user = z.zone.ownerRecordName;
  return {
    recordName,
    recordType,
    fields,
    pluginFields: {},
    recordChangeTag: seq.toString(36),
    created: { timestamp: created, userRecordName: user, deviceID: device },
    modified: { timestamp: modified, userRecordName: user, deviceID: device },
    deleted: false,
    zoneID: { ...z.zone },
  };
}

export function tombstone(z: ZoneLibrary, recordName: string): CkRecord {
  return { recordName, deleted: true, zoneID: { ...z.zone } };
}

/** The resource's ASSETID field and its fingerprint (the file checksum). */
function assetId(z: ZoneLibrary, idx: number, resource: number, ctx: RecordContext): [Field, Field] {
  const file = fileChecksumBytes(z, idx, resource);
  const reference = referenceChecksumBytes(z, idx, resource);
  const key = wrappingKey(z, idx, resource);
  const token = Buffer.concat([file, reference]).toString("base64url");
  const fileChecksum = file.toString("base64");
  const value = {
    fileChecksum,
    size: resourceSize(z, idx, resource),
    wrappingKey: key,
    referenceChecksum: reference.toString("base64"),
    downloadURL: buildDownloadUrl(ctx.origin, ctx.dsid, z, idx, resource, ctx.now, { token, wrappingKey: key }),
  };
  return [
    { type: "ASSETID", value },
    { value: fileChecksum, type: "STRING" },
  ];
}

function dimensions(z: ZoneLibrary, idx: number): { width: number; height: number } {
  const type = z.itemType[idx] ?? 0;
  const portrait = ((z.flags[idx] ?? 0) & FLAG_PORTRAIT) !== 0;
  let [w, h] = [4032, 3024];
  if (itemType(type).video) [w, h] = [1920, 1080];
  else if (type === TYPE_PNG) [w, h] = [2556, 1179];
  else if (type === TYPE_RAW) [w, h] = [6000, 4000];
  return portrait ? { width: h, height: w } : { width: w, height: h };
}

const int = (value: number): Field => ({ value, type: "INT64" });
const str = (value: string): Field => ({ value, type: "STRING" });

export function masterRecord(z: ZoneLibrary, idx: number, ctx: RecordContext): CkRecord {
  const type = itemType(z.itemType[idx] ?? 0);
  const flags = z.flags[idx] ?? 0;
  const name = masterRecordName(z, idx);
  if (flags & FLAG_EXPUNGED) return tombstone(z, name);
  const fields: Record<string, Field> = {};
  const file = filename(z, idx);
  if (file !== null) {
    fields.filenameEnc =
      flags & FLAG_STRING_NAME
        ? str(file)
        : { value: Buffer.from(file, "utf8").toString("base64"), type: "ENCRYPTED_BYTES" };
  }
  const { width, height } = dimensions(z, idx);
  fields.itemType = str(type.uti);
  [fields.resOriginalRes, fields.resOriginalFingerprint] = assetId(z, idx, RES_ORIGINAL, ctx);
  fields.resOriginalFileType = str(type.uti);
  fields.resOriginalWidth = int(width);
  fields.resOriginalHeight = int(height);
  const thumb = thumbnailDimensions(z, idx);
  [fields.resJPEGThumbRes, fields.resJPEGThumbFingerprint] = assetId(z, idx, RES_THUMB, ctx);
  fields.resJPEGThumbFileType = str("public.jpeg");
  fields.resJPEGThumbWidth = int(thumb.width);
  fields.resJPEGThumbHeight = int(thumb.height);
  if (flags & FLAG_LIVE) {
    const portrait = (flags & FLAG_PORTRAIT) !== 0;
    [fields.resOriginalVidComplRes, fields.resOriginalVidComplFingerprint] = assetId(z, idx, RES_VID_COMPL, ctx);
    fields.resOriginalVidComplFileType = str("com.apple.quicktime-movie");
    fields.resOriginalVidComplWidth = int(portrait ? 1080 : 1440);
    fields.resOriginalVidComplHeight = int(portrait ? 1440 : 1080);
  }
  fields.originalOrientation = int(1);
  fields.dataClassType = int(type.video ? 2 : 1);
  fields.importedBy = int(1);
  const added = z.addedDate[idx] ?? 0;
  return envelope(z, name, "CPLMaster", z.masterSeq[idx] ?? 0, added, added, project(fields, ctx.desiredKeys));
}

export function assetRecord(z: ZoneLibrary, idx: number, ctx: RecordContext): CkRecord {
  const flags = z.flags[idx] ?? 0;
  const name = assetRecordName(z, idx);
  if (flags & FLAG_EXPUNGED) return tombstone(z, name);
  const type = itemType(z.itemType[idx] ?? 0);
  const live = (flags & FLAG_LIVE) !== 0;
  const h = mix(z.key, idx, 0x7a);
  const fields: Record<string, Field> = {
    masterRef: {
      type: "REFERENCE",
      value: { recordName: masterRecordName(z, idx), action: "DELETE_SELF", zoneID: { ...z.zone } },
    },
    assetDate: { value: z.assetDate[idx] ?? 0, type: "TIMESTAMP" },
    addedDate: { value: z.addedDate[idx] ?? 0, type: "TIMESTAMP" },
    timeZoneOffset: int(([-8, -5, 0, 1, 2, 9][h % 6] ?? 0) * 3600),
    isFavorite: int(flags & FLAG_FAVORITE ? 1 : 0),
    isHidden: int(flags & FLAG_HIDDEN ? 1 : 0),
    isDeleted: int(flags & FLAG_DELETED ? 1 : 0),
    orientation: int(1),
    duration: int(type.video ? 3 + (h % 120) : 0),
    assetSubtype: int(live ? 2 : 0),
    assetSubtypeV2: int(live ? 2 : 0),
    assetHDRType: int(0),
    burstFlags: int(0),
    adjustmentRenderType: int(0),
  };
  if (live) {
    fields.vidComplDurValue = int(1500 + (h % 1000));
    fields.vidComplDurScale = int(600);
  }
  return envelope(
    z,
    name,
    "CPLAsset",
    z.assetSeq[idx] ?? 0,
    z.addedDate[idx] ?? 0,
    z.modified[idx] ?? 0,
    project(fields, ctx.desiredKeys),
  );
}
