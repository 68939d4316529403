/**
 * Deterministic, decodable identifiers: asset UUIDs, master record names, file checksums,
 * wrapping keys and filenames. Each embeds the asset index masked with the zone key, so a lookup
 * decodes the index and checks the name by regenerating it (no name → index map in memory).
 */

import { fillBytes, hex, mix } from "../prng.ts";
import { FLAG_HOSTILE_NAME, HOSTILE_NAMES, itemType } from "./item-types.ts";
import type { ZoneLibrary } from "./zone-library.ts";

/** Resource kinds addressed by download URLs. */
export const RES_ORIGINAL = 0;
export const RES_VID_COMPL = 1;
export const RES_THUMB = 2;

function indexMask(z: ZoneLibrary, salt: number): number {
  return mix(z.key, salt) & 0x7fffffff;
}

export function assetRecordName(z: ZoneLibrary, idx: number): string {
  const a = mix(z.key, idx, 1);
  const b = mix(z.key, idx, 2);
  const c = mix(z.key, idx, 3);
  const variant = "89AB"[c & 3] ?? "8";
  const tail = hex(c >>> 16, 4) + hex((idx ^ indexMask(z, 11)) >>> 0, 8);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${variant}${hex(c >>> 4, 3)}-${tail}`.toUpperCase();
}

export function decodeAssetRecordName(z: ZoneLibrary, name: string): number | undefined {
  const match = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{4}([0-9A-F]{8})$/.exec(name);
  if (!match?.[1]) return undefined;
  const idx = (Number.parseInt(match[1], 16) ^ indexMask(z, 11)) >>> 0;
  return idx < z.count && assetRecordName(z, idx) === name ? idx : undefined;
}

/** 21 bytes: 0x01, 16 derived bytes, then the masked index (big endian). */
function taggedBytes(z: ZoneLibrary, idx: number, salt: number): Buffer {
  const out = Buffer.alloc(21);
  out[0] = 0x01;
  fillBytes(out.subarray(1, 17), z.key, idx, salt);
  out.writeUInt32BE((idx ^ indexMask(z, salt)) >>> 0, 17);
  return out;
}

function decodeTagged(z: ZoneLibrary, bytes: Buffer, salt: number): number | undefined {
  if (bytes.length !== 21 || bytes[0] !== 0x01) return undefined;
  const idx = (bytes.readUInt32BE(17) ^ indexMask(z, salt)) >>> 0;
  if (idx >= z.count) return undefined;
  return taggedBytes(z, idx, salt).equals(bytes) ? idx : undefined;
}

export function masterRecordName(z: ZoneLibrary, idx: number): string {
  return taggedBytes(z, idx, 21).toString("base64");
}

export function decodeMasterRecordName(z: ZoneLibrary, name: string): number | undefined {
  if (!/^[A-Za-z0-9+/]{28}$/.test(name)) return undefined;
  return decodeTagged(z, Buffer.from(name, "base64"), 21);
}

export function fileChecksumBytes(z: ZoneLibrary, idx: number, resource: number): Buffer {
  return taggedBytes(z, idx, 100 + resource);
}

export function referenceChecksumBytes(z: ZoneLibrary, idx: number, resource: number): Buffer {
  const out = Buffer.alloc(21);
  out[0] = 0x01;
  fillBytes(out.subarray(1), z.key, idx, 200 + resource);
  return out;
}

export function wrappingKey(z: ZoneLibrary, idx: number, resource: number): string {
  return fillBytes(Buffer.alloc(16), z.key, idx, 300 + resource).toString("base64");
}

/** The path token of a download URL: url-safe base64 of fileChecksum ‖ referenceChecksum. */
export function downloadToken(z: ZoneLibrary, idx: number, resource: number): string {
  return Buffer.concat([fileChecksumBytes(z, idx, resource), referenceChecksumBytes(z, idx, resource)]).toString(
    "base64url",
  );
}

export function decodeDownloadToken(z: ZoneLibrary, token: string): { idx: number; resource: number } | undefined {
  if (!/^[A-Za-z0-9_-]{56}$/.test(token)) return undefined;
  const bytes = Buffer.from(token, "base64url");
  for (const resource of [RES_ORIGINAL, RES_VID_COMPL, RES_THUMB]) {
    const idx = decodeTagged(z, bytes.subarray(0, 21), 100 + resource);
    if (idx !== undefined && referenceChecksumBytes(z, idx, resource).equals(bytes.subarray(21)))
      return { idx, resource };
  }
  return undefined;
}

/** The asset's filename; `null` when the master has no filenameEnc field. */
export function filename(z: ZoneLibrary, idx: number): string | null {
  const type = itemType(z.itemType[idx] ?? 0);
  const flags = z.flags[idx] ?? 0;
  if (flags & FLAG_HOSTILE_NAME) {
    const name = HOSTILE_NAMES[mix(z.key, idx, 7) % HOSTILE_NAMES.length];
    return name === undefined ? null : name;
  }
  let counter = idx;
  // A restarted counter: the number of an earlier photo of the same type (so the names collide).
  if (idx > 0 && (mix(z.key, idx, 0xd0b) % 10_000) / 10_000 < z.options.duplicateNameRatio) {
    for (let back = 1; back <= Math.min(idx, 64); back++) {
      const other = idx - back;
      if (z.itemType[other] === z.itemType[idx] && ((z.flags[other] ?? 0) & FLAG_HOSTILE_NAME) === 0) {
        counter = other;
        break;
      }
    }
  }
  const number = ((mix(z.key, 0xf11e) % 9000) + counter) % 9999;
  return `${type.prefix}${String(number + 1).padStart(4, "0")}.${type.ext}`;
}

/** `_` + 32 hex characters, like CloudKit user record names. */
export function userRecordName(seedText: number): string {
  let out = "_";
  for (let i = 0; i < 4; i++) out += hex(mix(seedText, i), 8);
  return out;
}

/** An uppercase UUID derived from the given values (zone names, request ids). */
export function derivedUuid(...key: readonly number[]): string {
  const a = mix(...key, 1);
  const b = mix(...key, 2);
  const c = mix(...key, 3);
  const d = mix(...key, 4);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${"89AB"[c & 3]}${hex(c >>> 4, 3)}-${hex(c >>> 16, 4)}${hex(d, 8)}`.toUpperCase();
}
