/**
 * File bytes, generated deterministically from (zone, asset, resource) and the declared size.
 * Thumbnails are small valid JPEGs. Originals start with a plausible file signature (a small
 * valid JPEG for public.jpeg) followed by bytes read from one shared pseudo-random block at an
 * asset-specific offset, so a download is a zero-copy walk over that block.
 */
import { Readable } from "node:stream";
import { fillBytes, mix } from "../prng.ts";
import { FLAG_PORTRAIT, itemType, TYPE_JPEG, TYPE_PNG } from "./item-types.ts";
import { thumbnailJpeg } from "./jpeg.ts";
import { assetRecordName, RES_ORIGINAL, RES_THUMB, RES_VID_COMPL } from "./names.ts";
import type { ZoneLibrary } from "./zone-library.ts";

const BLOCK_SIZE = 1 << 20;
const CHUNK = 256 * 1024;
let block: Buffer | undefined;

function randomBlock(): Buffer {
  block ??= Buffer.from(fillBytes(new Uint8Array(BLOCK_SIZE), 0xb10c));
  return block;
}

const thumbCache = new Map<string, Buffer>();

export function thumbnailDimensions(z: ZoneLibrary, idx: number): { width: number; height: number } {
  return (z.flags[idx] ?? 0) & FLAG_PORTRAIT ? { width: 120, height: 160 } : { width: 160, height: 120 };
}

/**
 * Declared thumbnail size: the JPEG is padded to it with a comment segment, so listing records
 * never has to encode the image (an unpadded 160x120 thumbnail stays well under 4 KiB).
 */
export function thumbnailSize(z: ZoneLibrary, idx: number): number {
  return 4096 + (mix(z.key, idx, 0x51e) % 2048);
}

function padJpeg(jpeg: Buffer, target: number): Buffer {
  const missing = target - jpeg.length;
  if (missing < 4) return jpeg;
  const pad = Buffer.alloc(missing);
  pad[0] = 0xff;
  pad[1] = 0xfe;
  pad.writeUInt16BE(missing - 2, 2);
  pad.fill(0x20, 4);
  // After SOI and the JFIF APP0 segment (which must come first): a comment may sit anywhere before SOS.
  const at = 4 + jpeg.readUInt16BE(4);
  return Buffer.concat([jpeg.subarray(0, at), pad, jpeg.subarray(at)]);
}

export function thumbnailBytes(z: ZoneLibrary, idx: number): Buffer {
  const cacheKey = `${z.key}:${idx}`;
  const cached = thumbCache.get(cacheKey);
  if (cached) return cached;
  const { width, height } = thumbnailDimensions(z, idx);
  const target = thumbnailSize(z, idx);
  const name = assetRecordName(z, idx);
  let jpeg = padJpeg(thumbnailJpeg(mix(z.key, idx), width, height, `icloud2mqtt simulator ${name}`), target);
  // 1..3 bytes short of the target: lengthen the comment instead.
  if (jpeg.length < target)
    jpeg = thumbnailJpeg(
      mix(z.key, idx),
      width,
      height,
      `icloud2mqtt simulator ${name}${" ".repeat(target - jpeg.length)}`,
    );
  if (thumbCache.size >= 4096) thumbCache.clear();
  thumbCache.set(cacheKey, jpeg);
  return jpeg;
}

/** Byte length of a resource as declared in its ASSETID value. */
export function resourceSize(z: ZoneLibrary, idx: number, resource: number): number {
  if (resource === RES_THUMB) return thumbnailSize(z, idx);
  const original = z.size[idx] ?? 1;
  if (resource === RES_VID_COMPL) return Math.max(1, Math.floor(original * 0.6));
  return original;
}

function signature(z: ZoneLibrary, idx: number, resource: number): Buffer {
  if (resource === RES_THUMB) return thumbnailBytes(z, idx);
  const type = resource === RES_VID_COMPL ? 3 : (z.itemType[idx] ?? 0);
  if (type === TYPE_JPEG) return thumbnailJpeg(mix(z.key, idx, 0x0f), 64, 48, `original ${assetRecordName(z, idx)}`);
  if (type === TYPE_PNG) return Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const info = itemType(type);
  const brand = info.video ? (info.ext === "MP4" ? "mp42" : "qt  ") : info.ext === "HEIC" ? "heic" : "";
  if (!brand) return Buffer.alloc(0);
  const box = Buffer.alloc(20);
  box.writeUInt32BE(20, 0);
  box.write("ftyp", 4, "latin1");
  box.write(brand, 8, "latin1");
  box.write(brand, 16, "latin1");
  return box;
}

/** Streams bytes [start, end] (inclusive) of a resource. */
export function resourceStream(z: ZoneLibrary, idx: number, resource: number, start: number, end: number): Readable {
  const size = resourceSize(z, idx, resource);
  const head =
    resource === RES_ORIGINAL || resource === RES_VID_COMPL || resource === RES_THUMB
      ? signature(z, idx, resource)
      : Buffer.alloc(0);
  const prefix = head.length <= size ? head : Buffer.alloc(0);
  const data = randomBlock();
  const offset = mix(z.key, idx, resource, 0x0ff) % BLOCK_SIZE;
  function* chunks(): Generator<Buffer> {
    let pos = start;
    while (pos <= end) {
      if (pos < prefix.length) {
        const stop = Math.min(prefix.length, end + 1);
        yield prefix.subarray(pos, stop);
        pos = stop;
        continue;
      }
      const at = (offset + pos) % BLOCK_SIZE;
      const take = Math.min(CHUNK, end + 1 - pos, BLOCK_SIZE - at);
      yield data.subarray(at, at + take);
      pos += take;
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK });
}
