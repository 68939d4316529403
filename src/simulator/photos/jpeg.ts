/**
 * A tiny baseline JPEG encoder for flat-shaded images: every 8x8 block has one colour (DC only,
 * quantisation 1), which is enough for valid, visibly distinct thumbnails.
 */
import { mix } from "../prng.ts";

const DC_COUNTS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** AC table with two symbols: EOB (0x00) = "00", ZRL (0xF0) = "01". Only EOB is used. */
const AC_COUNTS = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0x00, 0xf0];

interface Code {
  bits: number;
  length: number;
}

function canonicalCodes(counts: readonly number[], values: readonly number[]): Map<number, Code> {
  const codes = new Map<number, Code>();
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < (counts[length - 1] ?? 0); i++) {
      codes.set(values[k++] ?? 0, { bits: code, length });
      code++;
    }
    code <<= 1;
  }
  return codes;
}

const DC_CODES = canonicalCodes(DC_COUNTS, DC_VALUES);
const EOB: Code = { bits: 0, length: 2 };

class BitWriter {
  readonly bytes: number[] = [];
  #acc = 0;
  #n = 0;
  write(bits: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((bits >>> i) & 1);
      this.#n++;
      if (this.#n === 8) this.#flushByte();
    }
  }
  #flushByte(): void {
    this.bytes.push(this.#acc);
    if (this.#acc === 0xff) this.bytes.push(0x00);
    this.#acc = 0;
    this.#n = 0;
  }
  finish(): number[] {
    while (this.#n !== 0) this.write(1, 1);
    return this.bytes;
  }
}

function segment(marker: number, payload: readonly number[]): number[] {
  const length = payload.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...payload];
}

function huffmanTable(tableClass: number, counts: readonly number[], values: readonly number[]): number[] {
  return [(tableClass << 4) | 0, ...counts, ...values];
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

function toYCbCr({ r, g, b }: Rgb): [number, number, number] {
  return [
    0.299 * r + 0.587 * g + 0.114 * b,
    128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  ];
}

/** Encodes a width x height (multiples of 8) image whose block colours come from `colourAt(bx, by)`. */
export function encodeBlockJpeg(
  width: number,
  height: number,
  colourAt: (bx: number, by: number) => Rgb,
  comment: string,
): Buffer {
  const bw = Math.ceil(width / 8);
  const bh = Math.ceil(height / 8);
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]));
  const commentBytes = [...Buffer.from(comment, "latin1").subarray(0, 60000)];
  out.push(...segment(0xfe, commentBytes));
  out.push(...segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]));
  out.push(
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]),
  );
  out.push(...segment(0xc4, [...huffmanTable(0, DC_COUNTS, DC_VALUES), ...huffmanTable(1, AC_COUNTS, AC_VALUES)]));
  out.push(...segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]));
  const writer = new BitWriter();
  const previous = [0, 0, 0];
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      const ycc = toYCbCr(colourAt(bx, by));
      for (let c = 0; c < 3; c++) {
        const level = Math.max(0, Math.min(255, Math.round(ycc[c] ?? 128)));
        const dc = 8 * (level - 128);
        const diff = dc - (previous[c] ?? 0);
        previous[c] = dc;
        const magnitude = Math.abs(diff);
        const category = magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
        const code = DC_CODES.get(category);
        if (!code) throw new Error(`DC category ${category} out of range`);
        writer.write(code.bits, code.length);
        if (category > 0) writer.write(diff >= 0 ? diff : diff + (1 << category) - 1, category);
        writer.write(EOB.bits, EOB.length);
      }
    }
  }
  out.push(...writer.finish(), 0xff, 0xd9);
  return Buffer.from(out);
}

/** A deterministic thumbnail: a two-colour diagonal gradient with a lighter disc, seeded by `key`. */
export function thumbnailJpeg(key: number, width: number, height: number, comment: string): Buffer {
  const h = mix(key, 0x7b);
  const a: Rgb = { r: h & 0xff, g: (h >>> 8) & 0xff, b: (h >>> 16) & 0xff };
  const h2 = mix(key, 0x7c);
  const b: Rgb = { r: h2 & 0xff, g: (h2 >>> 8) & 0xff, b: (h2 >>> 16) & 0xff };
  const bw = width / 8;
  const bh = height / 8;
  const cx = (h2 >>> 24) % bw;
  const cy = (h >>> 24) % bh;
  const radius = Math.min(bw, bh) / 3;
  return encodeBlockJpeg(
    width,
    height,
    (bx, by) => {
      const t = (bx / bw + by / bh) / 2;
      const inDisc = (bx - cx) ** 2 + (by - cy) ** 2 < radius ** 2;
      const lift = inDisc ? 60 : 0;
      return {
        r: Math.min(255, a.r + (b.r - a.r) * t + lift),
        g: Math.min(255, a.g + (b.g - a.g) * t + lift),
        b: Math.min(255, a.b + (b.b - a.b) * t + lift),
      };
    },
    comment,
  );
}
